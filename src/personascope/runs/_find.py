"""Finding runs: by directory, by id under the runs folder, or `latest`."""

from pathlib import Path

from personascope.errors import PersonascopeError
from personascope.study._manifest import MANIFEST, read_manifest


def _created(run_dir: Path) -> str:
    # A run with a broken manifest sorts first instead of breaking every listing.
    try:
        return read_manifest(run_dir).get("created") or ""
    except PersonascopeError:
        return ""


def list_run_dirs(runs_dir: str | Path | None = None) -> list[Path]:
    """Run directories under `runs_dir` (default: $PERSONASCOPE_RUNS or ./runs), oldest first."""
    from personascope.study._runner import default_runs_dir

    root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if (p / MANIFEST).is_file()]
    return sorted(runs, key=lambda p: (_created(p), p.name))


def _not_a_run(path: Path) -> PersonascopeError:
    try:
        holds_runs = any((p / MANIFEST).is_file() for p in path.iterdir() if p.is_dir())
    except OSError:  # unreadable folder: say what we can
        holds_runs = False
    if holds_runs:
        return PersonascopeError(
            f"{path} is a folder of runs, not a run: pass --runs-dir {path} with a run id, or a run directory inside it"
        )
    return PersonascopeError(f"{path} is not a run directory (no {MANIFEST}): give a run directory, a run id or 'latest'")


def resolve_run(ref: str | Path, runs_dir: str | Path | None = None) -> Path:
    """A run directory from a path, a run id (or unique prefix) or `latest`."""
    from personascope.study._runner import default_runs_dir

    path = Path(ref)
    if (path / MANIFEST).is_file():
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
