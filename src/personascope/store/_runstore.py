"""The run store: one SQLite file per run with every transcript, metric and artifact.

SQLite rather than DuckDB for the live store: a study can be killed at any moment,
and readers (`runs show`, the report) must work while a study writes. SQLite's
journal gives both. DuckDB does the analytics side (Parquet export, see `export`).

Tables (all keyed, so rewriting a step's rows after a resume never duplicates):
- `transcripts`: one row per model conversation a step produced.
- `metrics`: one row per number a step reports, with its confidence interval.
- `artifacts`: files a step wrote under the run directory (vectors, tables, plots).
"""

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
_FIXES = "pass --runs-dir <a writable folder> or set PERSONASCOPE_RUNS"
STORE_NAME = "store.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS transcripts (
    step TEXT NOT NULL, id TEXT NOT NULL, model TEXT, arm TEXT, sample TEXT,
    messages TEXT NOT NULL, output TEXT, scores TEXT, metadata TEXT,
    PRIMARY KEY (step, id)
);
CREATE TABLE IF NOT EXISTS metrics (
    step TEXT NOT NULL, name TEXT NOT NULL, arm TEXT NOT NULL DEFAULT '', model TEXT NOT NULL DEFAULT '',
    value REAL, ci_low REAL, ci_high REAL, n INTEGER, headline INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (step, name, arm, model)
);
CREATE TABLE IF NOT EXISTS artifacts (
    step TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, path TEXT NOT NULL, metadata TEXT,
    PRIMARY KEY (step, name)
);
"""


@dataclass
class Transcript:
    """One conversation: `messages` are role/content dicts ending with the model's turn."""

    id: str
    step: str
    messages: list[dict]
    output: str
    model: str = ""
    arm: str = ""
    sample: str = ""
    scores: dict[str, Any] = field(default_factory=dict)
    """Numbers measured on this transcript (projections, judge scores)."""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Metric:
    """A number a step reports; `headline` ones lead the summary and `runs compare`."""

    step: str
    name: str
    value: float
    arm: str = ""
    model: str = ""
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    headline: bool = False


@dataclass
class Artifact:
    """A file or directory a step wrote; `path` is relative to the run directory."""

    step: str
    name: str
    kind: str
    path: str
    metadata: dict[str, Any] = field(default_factory=dict)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, allow_nan=True)


class RunStore:
    """Reads and writes one run's `store.sqlite`.

    Each write is one transaction, so a killed process leaves either all or none of
    a batch. Connections are opened per call: a long study never holds a lock that
    would block `runs show` in another terminal.
    """

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            from personascope.errors import PersonascopeError

            raise PersonascopeError(f"no run store at {self.path}: is this a run directory?")
        if create:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                from personascope.store._cache import storage_error

                raise storage_error(self.path.parent, exc, _FIXES) from None
            with self._connect() as db:
                db.executescript(_SCHEMA)
                db.execute("INSERT OR IGNORE INTO info VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        from personascope.store._cache import storage_error

        try:
            db = sqlite3.connect(self.path, timeout=30)
        except sqlite3.Error as exc:
            raise storage_error(self.path, exc, _FIXES) from None
        db.row_factory = sqlite3.Row
        try:
            with db:  # commits on success, rolls back on error
                yield db
        except sqlite3.OperationalError as exc:
            # A full disk or a read-only run folder: name the file and the fix.
            if "locked" in str(exc):
                raise
            raise storage_error(self.path, exc, _FIXES) from None
        finally:
            db.close()

    # -- writing ------------------------------------------------------------
    def clear_step(self, step: str) -> None:
        """Drop a step's rows before it runs again (a resumed step rewrites them)."""
        with self._connect() as db:
            for table in ("transcripts", "metrics", "artifacts"):
                db.execute(f"DELETE FROM {table} WHERE step = ?", (step,))

    def add_transcripts(self, rows: Iterable[Transcript]) -> None:
        values = [
            (t.step, t.id, t.model, t.arm, t.sample, _json(t.messages), t.output, _json(t.scores), _json(t.metadata))
            for t in rows
        ]
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO transcripts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values)

    def add_metrics(self, rows: Iterable[Metric]) -> None:
        values = [
            (m.step, m.name, m.arm, m.model, m.value, m.ci_low, m.ci_high, m.n, int(m.headline)) for m in rows
        ]
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values)

    def add_artifact(self, artifact: Artifact) -> None:
        a = artifact
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO artifacts VALUES (?, ?, ?, ?, ?)",
                (a.step, a.name, a.kind, a.path, _json(a.metadata)),
            )

    # -- reading ------------------------------------------------------------
    def transcripts(self, step: str | None = None) -> list[Transcript]:
        query, args = "SELECT * FROM transcripts", ()
        if step is not None:
            query, args = query + " WHERE step = ?", (step,)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY step, arm, sample, id", args).fetchall()
        return [
            Transcript(
                id=r["id"], step=r["step"], model=r["model"], arm=r["arm"], sample=r["sample"],
                messages=json.loads(r["messages"]), output=r["output"],
                scores=json.loads(r["scores"] or "{}"), metadata=json.loads(r["metadata"] or "{}"),
            )
            for r in rows
        ]

    def metrics(self, step: str | None = None, *, headline: bool | None = None) -> list[Metric]:
        query, where, args = "SELECT * FROM metrics", [], []
        if step is not None:
            where.append("step = ?")
            args.append(step)
        if headline is not None:
            where.append("headline = ?")
            args.append(int(headline))
        if where:
            query += " WHERE " + " AND ".join(where)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY rowid", args).fetchall()
        return [Metric(**{**dict(r), "headline": bool(r["headline"])}) for r in rows]

    def artifacts(self, step: str | None = None) -> list[Artifact]:
        query, args = "SELECT * FROM artifacts", ()
        if step is not None:
            query, args = query + " WHERE step = ?", (step,)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY rowid", args).fetchall()
        return [Artifact(**{**dict(r), "metadata": json.loads(r["metadata"] or "{}")}) for r in rows]

    def tables(self) -> dict[str, list[dict]]:
        """Every table as plain rows (JSON columns decoded), for export."""
        return {
            "transcripts": [asdict(t) for t in self.transcripts()],
            "metrics": [asdict(m) for m in self.metrics()],
            "artifacts": [asdict(a) for a in self.artifacts()],
        }
