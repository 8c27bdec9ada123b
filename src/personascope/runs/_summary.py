"""`list_runs` and `show_run`: what is in the runs folder, and what one run holds."""

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from personascope._runsdir import run_is_live
from personascope.errors import PersonascopeError
from personascope.runs._find import list_run_dirs, resolve_run
from personascope.runs._read import open_store, store_errors, transcript_counts
from personascope.store._runstore import STORE_NAME
from personascope.study._manifest import read_manifest


@dataclass(frozen=True)
class RunSummary:
    """One line of `runs list`."""

    run_id: str
    study: str
    status: str
    """pending, running, done, failed or interrupted; a run the manifest calls running
    whose process is gone (killed, crashed, machine rebooted) is interrupted;
    `unreadable` when the manifest is not valid JSON."""
    created: str | None
    seconds: float | None
    steps_done: int
    steps_total: int
    transcripts: int | None
    """None when the store is missing or unreadable."""
    path: Path

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path)}


INTERRUPTED = "interrupted"


def run_status(run_dir: Path, manifest: dict) -> str:
    """The manifest's status, except that a `running` run nobody runs is interrupted."""
    status = manifest.get("status") or "unknown"
    if status == "running" and run_is_live(run_dir, manifest) is False:
        return INTERRUPTED
    return status


def _summary(run_dir: Path) -> RunSummary:
    try:
        manifest = read_manifest(run_dir)
    except PersonascopeError:
        # One broken run must not hide the others from `runs list`.
        return RunSummary(run_dir.name, "", "unreadable", None, None, 0, 0, None, run_dir)
    steps = manifest.get("steps") or {}
    try:
        transcripts = sum(transcript_counts(run_dir).values()) if (run_dir / STORE_NAME).is_file() else None
    except PersonascopeError:
        transcripts = None
    return RunSummary(
        run_id=manifest.get("run_id") or run_dir.name,
        study=manifest.get("study") or "",
        status=run_status(run_dir, manifest),
        created=manifest.get("created"),
        seconds=manifest.get("seconds"),
        steps_done=sum(1 for s in steps.values() if s.get("status") == "done"),
        steps_total=len(steps),
        transcripts=transcripts,
        path=run_dir,
    )


def list_runs(runs_dir: str | Path | None = None) -> list[RunSummary]:
    """Every run under `runs_dir` (default: $PERSONASCOPE_RUNS or ./runs), oldest first."""
    return [_summary(p) for p in list_run_dirs(runs_dir)]


def _step_rows(manifest: dict, counts: dict[str, int], dead: bool = False) -> list[dict[str, Any]]:
    steps = manifest.get("steps") or {}
    order = manifest.get("step_order") or list(steps)
    rows = []
    for step_id in order:
        entry = steps.get(step_id, {})
        cache = entry.get("cache") or {}
        rows.append({
            "id": step_id,
            "type": entry.get("type"),
            # The step a dead process was in never ended; say so rather than `running`.
            "status": INTERRUPTED if dead and entry.get("status") == "running" else entry.get("status"),
            "seconds": entry.get("seconds"),
            "cache_hits": cache.get("hits"),
            "cache_misses": cache.get("misses"),
            "model_calls": entry.get("model_calls"),
            "attempts": entry.get("attempts", 0),
            "transcripts": counts.get(step_id, 0),
            "error": entry.get("error"),
        })
    return rows


def show_run(ref: str | Path, runs_dir: str | Path | None = None) -> dict[str, Any]:
    """One run as plain JSON-ready data: manifest summary, steps, headline metrics.

    `ref` is a run directory, a run id (or a unique prefix of one) or `latest`.
    """
    run_dir = resolve_run(ref, runs_dir)
    manifest = read_manifest(run_dir)
    store = open_store(run_dir)
    with store_errors(run_dir):
        counts = transcript_counts(run_dir)
        metrics = store.metrics()
        n_artifacts = len(store.artifacts())
    report = run_dir / "report.html"
    status = run_status(run_dir, manifest)
    return {
        "run_id": manifest.get("run_id") or run_dir.name,
        "path": str(run_dir),
        "study": manifest.get("study"),
        "description": (manifest.get("description") or "").strip(),
        "status": status,
        "process": manifest.get("process"),
        "created": manifest.get("created"),
        "finished": manifest.get("finished"),
        "seconds": manifest.get("seconds"),
        "resumed": manifest.get("resumed", 0),
        "config_file": manifest.get("config_file"),
        "config_hash": manifest.get("config_hash"),
        "seed": manifest.get("seed"),
        "git": manifest.get("git"),
        # Only what identifies a model; tokenizer hashes stay in the manifest.
        "models": {
            alias: {k: m.get(k) for k in ("name", "device", "dtype", "weights")}
            for alias, m in (manifest.get("models") or {}).items()
        },
        "versions": manifest.get("versions") or {},
        "cache": manifest.get("cache") or {},
        "report": str(report) if report.is_file() else None,
        "counts": {"transcripts": sum(counts.values()), "metrics": len(metrics), "artifacts": n_artifacts},
        "steps": _step_rows(manifest, counts, dead=status == INTERRUPTED),
        "headline": [
            {k: v for k, v in asdict(m).items() if k != "headline"} for m in metrics if m.headline
        ],
    }
