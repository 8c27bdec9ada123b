"""What a running step sees in a study: its models (behind the cache), the run
store, paths, progress, and `record` (a `personascope.protocol.Context`)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from personascope.store import Cache, RunStore
from personascope.models import Model
from personascope.study._config import Study
from personascope.protocol import VECTOR_DIR, Step, spec_vector_name


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
    pool: dict[str, Model]
    show_progress: bool = True
    _progress: object = field(default=None, repr=False)

    # -- models -------------------------------------------------------------
    def models(self) -> list[tuple[str, Model]]:
        """(alias, model) for each model this step runs on."""
        return [(alias, self.model(alias)) for alias in self.study.step_models(self.step)]

    def model(self, name) -> Model:
        """A study alias (with its whole config: args, dtype, device), else any model
        name or config; aliases are loaded once per run and shared by its steps."""
        from personascope.models import get_model

        if isinstance(name, str) and name in self.study.models:
            if name not in self.pool:
                self.pool[name] = get_model(self.study.models[name], cache=self.cache)
            return self.pool[name]
        return get_model(name, cache=self.cache)

    # -- results ------------------------------------------------------------
    def record(self, alias: str, result, *, name: str | None = None) -> None:
        """Write one model's result: `<name>-<alias>.json` (name: the step type's
        `result_name`), its metrics and its transcripts."""
        import json

        from personascope.protocol import check_result
        from personascope.store import Artifact

        check_result(result)
        name = name or type(self.step).result_name
        self.store.add_transcripts(result.transcripts(self.step.id, alias))
        self.store.add_metrics(result.metrics(self.step.id, alias))
        path = self.artifact_dir() / f"{name}-{alias}.json"
        path.write_text(json.dumps(result.to_json(), indent=1, default=str))
        meta = result.artifact_meta() if callable(getattr(result, "artifact_meta", None)) else {}
        self.store.add_artifact(Artifact(self.step.id, f"{name} {alias}", "json", str(path.relative_to(self.run_dir)), meta))

    # -- paths --------------------------------------------------------------
    @property
    def base_dir(self) -> Path:
        """The config file's folder: relative paths in steps resolve against it."""
        return self.study.base_dir

    def step_ids(self) -> set[str]:
        return {s.id for s in self.study.steps}

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
