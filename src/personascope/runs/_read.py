"""Reading a run's store, with errors that name the run and the fix."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from personascope.errors import PersonascopeError
from personascope.store._runstore import STORE_NAME, RunStore


def open_store(run_dir: Path) -> RunStore:
    """The run's store; a run directory without one is incomplete, not empty."""
    path = Path(run_dir) / STORE_NAME
    if not path.is_file():
        raise PersonascopeError(
            f"run {Path(run_dir).name} has no {STORE_NAME} (looked for {path}): the run directory is "
            "incomplete; restore the file or run the study again"
        )
    return RunStore(path)


@contextmanager
def store_errors(run_dir: Path) -> Iterator[None]:
    """A corrupt or foreign SQLite file becomes one `error:` line, not a traceback."""
    try:
        yield
    except sqlite3.Error as exc:
        raise PersonascopeError(f"cannot read {Path(run_dir) / STORE_NAME} ({exc}): is it a personascope run store?") from None


def transcript_counts(run_dir: Path) -> dict[str, int]:
    """Transcripts per step, counted in SQL: loading them would read every message.

    Opened read-only so listing runs never takes a write lock from a running study.
    """
    path = Path(run_dir) / STORE_NAME
    with store_errors(run_dir):
        db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
        try:
            rows = db.execute("SELECT step, count(*) FROM transcripts GROUP BY step").fetchall()
        finally:
            db.close()
    return {step: n for step, n in rows}
