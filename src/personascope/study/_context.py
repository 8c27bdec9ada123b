"""What a running step sees: its models (behind the cache), the run store, paths, progress."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from personascope.store import Cache, CachedModel, RunStore
from personascope.study._config import Study
from personascope.study._registry import Step, spec_vector_name

VECTOR_DIR = "vector"


def artifact_dir(run_dir: Path, step_id: str) -> Path:
    return run_dir / "artifacts" / step_id


@dataclass
class StepContext:
    study: Study
    step: Step
    run_dir: Path
    store: RunStore
    cache: Cache
    seed: int
    pool: dict[str, CachedModel]
    show_progress: bool = True
    _progress: object = field(default=None, repr=False)

    # -- models -------------------------------------------------------------
    def models(self) -> list[tuple[str, CachedModel]]:
        """(alias, model) for each model this step runs on."""
        return [(alias, self.model(alias)) for alias in self.study.step_models(self.step)]

    def model(self, alias: str) -> CachedModel:
        if alias not in self.pool:
            cfg = self.study.models[alias]
            self.pool[alias] = CachedModel(
                cfg.name, self.cache, dtype=cfg.dtype, device=cfg.device, layers_path=cfg.layers_path, model_args=cfg.args
            )
        return self.pool[alias]

    # -- paths --------------------------------------------------------------
    def artifact_dir(self) -> Path:
        path = artifact_dir(self.run_dir, self.step.id)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def resolve(self, path: str | Path) -> Path:
        """A path from the config, relative to the config file's folder."""
        return (self.study.base_dir / Path(path).expanduser()).resolve()

    def vector_path(self, name: str) -> Path:
        """A vector by step id (that step's output in this run) or by path."""
        if any(s.id == name for s in self.study.steps):
            return artifact_dir(self.run_dir, name) / VECTOR_DIR
        return self.resolve(name)

    def resolve_spec(self, spec: str) -> str:
        """`VECTOR@...` with VECTOR made a real path (step ids become this run's vectors)."""
        name = spec_vector_name(spec)
        return str(self.vector_path(name)) + spec[len(name) :]

    # -- progress -----------------------------------------------------------
    @contextmanager
    def progress(self, description: str, total: int) -> Iterator[Callable[[int], None]]:
        """A progress bar for `total` items; yields `advance(n)`."""
        if not self.show_progress or self._progress is None:
            yield lambda n: None
            return
        progress = self._progress
        task = progress.add_task(f"  {description}", total=total)
        try:
            yield lambda n: progress.advance(task, n)
        finally:
            progress.remove_task(task)
