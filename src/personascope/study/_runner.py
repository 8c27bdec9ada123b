"""Running a study: pick or resume a run directory, run the steps, write the report."""

import os
import socket
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from personascope._runsdir import RunLock, default_runs_dir
from personascope.errors import PersonascopeError
from personascope.store import STORE_NAME, Cache, RunStore, storage_error
from personascope.models import Model
from personascope.study import _stepcache as stepcache
from personascope.study._config import Study, load_study
from personascope.study._context import StepContext
from personascope.study._manifest import git_state, now, read_manifest, versions, write_manifest


RUNS_FIXES = "pass --runs-dir <a writable folder> or set PERSONASCOPE_RUNS"


@dataclass
class RunResult:
    run_dir: Path
    manifest: dict
    report: Path | None

    @property
    def model_calls(self) -> int:
        return sum(s.get("model_calls", 0) for s in self.manifest["steps"].values())


def _resumable(runs_dir: Path, study: Study) -> Path | None:
    """The newest unfinished run of this exact config, if any."""
    if not runs_dir.is_dir():
        return None
    candidates = sorted(
        (p for p in runs_dir.glob(f"{study.name}-*") if (p / "manifest.json").is_file()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for path in candidates:
        try:
            manifest = read_manifest(path)
        except PersonascopeError:
            continue
        if manifest.get("config_hash") == study.config_hash():
            return path if manifest.get("status") != "done" else None
    return None


class RunBusy(PersonascopeError):
    """Another process is running the run this study would resume."""


def _busy(run_dir: Path) -> RunBusy:
    try:
        process = read_manifest(run_dir).get("process") or {}
    except PersonascopeError:
        process = {}
    who = f"pid {process.get('pid')} on {process.get('host')}" if process.get("pid") else "another process"
    return RunBusy(
        f"{who} is running this study in {run_dir}: pass --wait to wait for it and then resume "
        "or reuse its finished steps, or --new to start a separate run"
    )


def _claim(runs_dir: Path, study: Study, cache: Cache, new: bool, wait: bool) -> tuple[Path, dict, RunLock]:
    """The run directory this process runs, its manifest, and the lock held on it.

    Choosing and locking happen under a lock on the runs folder, so two processes
    started together never both take the same run or both start a new one.
    """
    import fcntl

    runs_dir.mkdir(parents=True, exist_ok=True)
    while True:
        # The runs folder itself is the lock (a directory can be flocked): no stray file.
        fd = os.open(runs_dir, os.O_RDONLY)
        busy = None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:  # a filesystem without locks: the run's own lock still guards it
                pass
            run_dir = None if new else _resumable(runs_dir, study)
            if run_dir is None:
                run_dir = _new_run_dir(runs_dir, study.name)
                lock = RunLock(run_dir)
                if not lock.acquire():
                    raise PersonascopeError(f"cannot lock the new run directory {run_dir}: is another process using it?")
                manifest = _new_manifest(study, run_dir, cache)
                return run_dir, manifest, lock
            lock = RunLock(run_dir)
            if lock.acquire():
                manifest = read_manifest(run_dir)  # again, now that nobody else writes it
                if manifest.get("status") == "done":  # it finished while we looked
                    lock.release()
                    continue
                manifest["status"] = "running"
                manifest["resumed"] = manifest.get("resumed", 0) + 1
                return run_dir, manifest, lock
            busy = _busy(run_dir)
        finally:
            os.close(fd)
        if not wait:
            raise busy
        lock.wait()  # then choose again: resume it if it stopped, reuse it if it finished


def _new_run_dir(runs_dir: Path, name: str) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    base = runs_dir / f"{name}-{stamp}"
    path, n = base, 1
    while True:
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            n += 1
            path = Path(f"{base}-{n}")


def _new_manifest(study: Study, run_dir: Path, cache: Cache) -> dict:
    return {
        "schema_version": 1,
        "run_id": run_dir.name,
        "study": study.name,
        "description": study.description,
        "config_file": str(study.source) if study.source else None,
        "config_hash": study.config_hash(),
        "config": study.resolved(),
        "status": "running",
        "created": now(),
        "finished": None,
        "seconds": 0.0,
        "versions": versions(),
        "git": git_state(study.base_dir),
        "seed": study.seed,
        "models": {},
        "cache": {"path": str(cache.path), "enabled": cache.enabled},
        "step_order": [s.id for s in study.steps],
        "steps": {
            s.id: {"type": s.type, "status": "pending", "needs": study.dependencies(s), "seed": s.seed if s.seed is not None else study.seed}
            for s in study.steps
        },
    }


def run_study(
    config: str | Path | Study,
    *,
    runs_dir: str | Path | None = None,
    cache: Cache | None = None,
    no_cache: bool = False,
    new: bool = False,
    wait: bool = False,
    progress: bool = True,
    report: bool = True,
) -> RunResult:
    """Run a study (a YAML path or a loaded `Study`) and return its run directory.

    An unfinished run of the same config is resumed unless `new`: its finished
    steps are kept, and the rest rerun with the cache supplying finished calls.
    One process runs a run directory at a time: when another process is running the
    run this would resume, this raises `RunBusy`, or with `wait` waits for it first.
    """
    study = config if isinstance(config, Study) else load_study(config)
    runs_dir = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    cache = cache if cache is not None else Cache(enabled=not no_cache)
    try:
        run_dir, manifest, lock = _claim(runs_dir, study, cache, new, wait)
    except (OSError, sqlite3.Error) as exc:
        raise storage_error(runs_dir, exc, RUNS_FIXES) from None
    try:
        return _run_locked(study, run_dir, manifest, cache, progress, report)
    finally:
        lock.release()


def _run_locked(study: Study, run_dir: Path, manifest: dict, cache: Cache, progress: bool, report: bool) -> RunResult:
    # Who runs it: with the lock, this tells `runs list` a live run from a dead one.
    manifest["process"] = {"pid": os.getpid(), "host": socket.gethostname()}
    try:
        write_manifest(run_dir, manifest)
        store = RunStore(run_dir / STORE_NAME, create=True)
    except (OSError, sqlite3.Error) as exc:
        raise storage_error(run_dir, exc, RUNS_FIXES) from None
    pool: dict[str, Model] = {}
    started = time.perf_counter()
    status = "failed"
    try:
        with _display(progress) as display:
            for index, step in enumerate(study.steps, 1):
                entry = manifest["steps"][step.id]
                if entry["status"] == "done":
                    display.note(f"[dim]= {step.id} ({step.type}) already done in this run[/dim]")
                    continue
                _run_step(study, step, entry, manifest, run_dir, store, cache, pool, display, f"{index}/{len(study.steps)}")
        status = "done"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        manifest["status"] = status
        manifest["finished"] = now()
        manifest["seconds"] = round(manifest.get("seconds", 0.0) + time.perf_counter() - started, 3)
        manifest["cache"].update(cache.stats())
        manifest["models"].update({alias: m.describe() for alias, m in pool.items()})
        write_manifest(run_dir, manifest)
    report_path = None
    if report:
        # The report layer sits above this one; the runner finds its builder by name.
        from personascope import registry

        report_path = registry.get("hook", "build_report")(run_dir)
    return RunResult(run_dir=run_dir, manifest=manifest, report=report_path)


def _run_step(study, step, entry, manifest, run_dir, store, cache, pool, display, position) -> None:
    seed = step.seed if step.seed is not None else study.seed
    ctx = StepContext(study=study, step=step, run_dir=run_dir, store=store, cache=cache, seed=seed, pool=pool, show_progress=display.enabled, _progress=display.progress)
    calls_before = {alias: m.calls for alias, m in pool.items()}
    hits, misses = cache.hits, cache.misses
    entry.update(status="running", started=now(), error=None, attempts=entry.get("attempts", 0) + 1)
    write_manifest(run_dir, manifest)
    display.note(f"[bold]> {position} {step.id}[/bold] ({step.type})")
    t0 = time.perf_counter()
    try:
        store.clear_step(step.id)
        upstream = {dep: manifest["steps"][dep].get("output_digest") for dep in entry["needs"]}
        key = stepcache.step_key(ctx, upstream) if cache.enabled and all(upstream.values()) else None
        blob = cache.get(key) if key else None
        entry["reused"] = blob is not None
        if blob is not None:
            stepcache.unpack(blob, store, run_dir)
        else:
            step.run(ctx)
            blob = stepcache.pack(store, run_dir, step.id) if key else None
            if blob is not None:
                cache.put_many({key: blob}, op="step")
        entry["output_digest"] = stepcache.digest(blob) if blob is not None else None
        entry["status"] = "done"
    except BaseException as exc:
        entry["status"] = "failed" if not isinstance(exc, KeyboardInterrupt) else "interrupted"
        entry["error"] = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        entry["seconds"] = round(time.perf_counter() - t0, 3)
        entry["model_calls"] = sum(m.calls - calls_before.get(alias, 0) for alias, m in pool.items())
        entry["cache"] = {"hits": cache.hits - hits, "misses": cache.misses - misses}
        manifest["models"].update({alias: m.describe() for alias, m in pool.items()})
        write_manifest(run_dir, manifest)
    if entry["reused"]:
        display.note(f"  [green]done[/green] {step.id}: unchanged inputs, outputs reused from the cache")
    else:
        display.note(
            f"  [green]done[/green] {step.id} in {entry['seconds']:.1f} s "
            f"({entry['cache']['hits']} calls cached, {entry['cache']['misses']} computed)"
        )


class _display:
    """A rich progress display on stderr, or nothing."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.progress = None

    def __enter__(self) -> "_display":
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)

    def note(self, text: str) -> None:
        if self.progress is not None:
            self.progress.console.print(text)
