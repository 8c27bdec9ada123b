"""Where runs live and how a run is named: a directory, a run id (or unique prefix)
under the runs folder, or `latest`.

Plain paths only: the model layer resolves `run:<RUN>/<artifact>` names with this,
and `runs` and `study` build on it, so it knows nothing about models or studies.
"""

import json
import os
from pathlib import Path

from personascope.errors import PersonascopeError

MANIFEST = "manifest.json"
"""The file that makes a directory a run."""


def default_runs_dir() -> Path:
    """Where runs go: $PERSONASCOPE_RUNS, else ./runs."""
    return Path(os.environ.get("PERSONASCOPE_RUNS", "runs"))


def is_run_dir(path: str | Path) -> bool:
    return (Path(path) / MANIFEST).is_file()


def _created(run_dir: Path) -> str:
    # A run with a broken manifest sorts first instead of breaking every listing.
    try:
        created = json.loads((run_dir / MANIFEST).read_text()).get("created")
    except (OSError, ValueError, AttributeError):
        return ""
    return created if isinstance(created, str) else ""


def list_run_dirs(runs_dir: str | Path | None = None) -> list[Path]:
    """Run directories under `runs_dir` (default: $PERSONASCOPE_RUNS or ./runs), oldest first."""
    root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if is_run_dir(p)]
    return sorted(runs, key=lambda p: (_created(p), p.name))


def _not_a_run(path: Path) -> PersonascopeError:
    try:
        holds_runs = any(is_run_dir(p) for p in path.iterdir() if p.is_dir())
    except OSError:  # unreadable folder: say what we can
        holds_runs = False
    if holds_runs:
        return PersonascopeError(
            f"{path} is a folder of runs, not a run: pass --runs-dir {path} with a run id, or a run directory inside it"
        )
    return PersonascopeError(f"{path} is not a run directory (no {MANIFEST}): give a run directory, a run id or 'latest'")


def resolve_run(ref: str | Path, runs_dir: str | Path | None = None) -> Path:
    """A run directory from a path, a run id (or unique prefix) or `latest`."""
    path = Path(ref)
    if is_run_dir(path):
        return path
    runs = list_run_dirs(runs_dir)
    if str(ref) == "latest":
        if not runs:
            raise PersonascopeError("no runs yet: run a study first (personascope study run CONFIG)")
        return runs[-1]
    matches = [p for p in runs if p.name == str(ref)] or [p for p in runs if p.name.startswith(str(ref))]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        if path.is_dir():
            raise _not_a_run(path)
        where = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        raise PersonascopeError(f"no run {str(ref)!r} in {where}: give a run directory, a run id or 'latest' (see personascope runs list)")
    names = ", ".join(p.name for p in matches[:5]) + (f" and {len(matches) - 5} more" if len(matches) > 5 else "")
    raise PersonascopeError(f"{str(ref)!r} matches several runs ({names}): give more of the id")


def resolve_run_path(ref: str, runs_dir: str | Path | None = None) -> tuple[Path, str]:
    """(run directory, path inside it) for `<RUN>/<path>`, where RUN is a run directory
    (which may itself contain slashes), a run id or prefix, or `latest`."""
    parts = ref.replace("\\", "/").split("/")
    # The shortest leading part that is a run directory wins: a run never sits inside another.
    for i in range(1, len(parts)):
        head = "/".join(parts[:i]) or "/"
        if is_run_dir(Path(head).expanduser()):
            return Path(head).expanduser(), "/".join(parts[i:])
    if len(parts) < 2 or not "/".join(parts[1:]).strip("/"):
        raise PersonascopeError(
            f"run reference {ref!r} names no artifact: write run:<run dir, run id or latest>/<artifact path>"
        )
    if parts[0] in ("", ".", "..", "~"):
        raise PersonascopeError(
            f"no run directory along {ref!r} (none of its folders holds {MANIFEST}): "
            "write run:<run dir>/<artifact path>, or a run id or 'latest' instead of the dir"
        )
    return resolve_run(parts[0], runs_dir), "/".join(parts[1:])


def run_artifact(ref: str, runs_dir: str | Path | None = None) -> Path:
    """The directory `<RUN>/<path>` names: `artifacts/<path>` in the run, else `<path>`
    relative to the run directory."""
    run_dir, inner = resolve_run_path(ref, runs_dir)
    inner = inner.strip("/")
    for candidate in (run_dir / "artifacts" / inner, run_dir / inner):
        if candidate.exists():
            return candidate
    raise PersonascopeError(
        f"run {run_dir} has no artifact {inner!r}: looked for {run_dir / 'artifacts' / inner} and "
        f"{run_dir / inner} (list the run's artifacts folder for the right path)"
    )


# One process per run directory. The running study holds an exclusive flock on
# LOCK for the run's life; the kernel drops it when the process dies, however it
# dies, so a reader that can take the lock knows nobody is running the run.
LOCK = "run.lock"


def _flock(path: Path, exclusive: bool):
    """An open fd holding a non-blocking flock on `path`, or None when another process holds it."""
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644) if exclusive else os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


class RunLock:
    """The exclusive lock a process holds while it runs `run_dir`."""

    def __init__(self, run_dir: str | Path) -> None:
        self.path = Path(run_dir) / LOCK
        self.fd: int | None = None

    def acquire(self, patience: float = 1.0) -> bool:
        """Take the lock; False when another process holds it. `patience` seconds of
        retries ride out readers that check the lock at the same moment."""
        import time

        deadline = time.monotonic() + patience
        while True:
            self.fd = _flock(self.path, exclusive=True)
            if self.fd is not None or time.monotonic() >= deadline:
                return self.fd is not None
            time.sleep(0.02)

    def wait(self) -> None:
        """Block until whoever holds the lock lets go (takes it, then lets it go)."""
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        finally:
            os.close(fd)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the fd drops the flock
            self.fd = None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def run_is_live(run_dir: str | Path, manifest: dict | None = None) -> bool | None:
    """Whether a process is running `run_dir` now: True, False, or None when the run
    predates the lock and names no process of this host to check."""
    import socket

    lock = Path(run_dir) / LOCK
    if lock.is_file():
        try:
            fd = _flock(lock, exclusive=False)
        except OSError:  # read-only runs folder: fall back to the pid
            fd = -1
        if fd is None:
            return True
        if fd >= 0:
            os.close(fd)
            return False
    process = (manifest or {}).get("process") or {}
    if isinstance(process.get("pid"), int) and process.get("host") == socket.gethostname():
        return _pid_alive(process["pid"])
    return None
