"""What a protocol sees while it runs.

`Env` is what `Step.execute` needs: the seed, the call cache, second models by
name or alias, spec and path resolution, progress bars. A study's `StepContext`
is one (aliases come from the study, paths from its config file, vector specs may
name other steps); `LocalEnv` is the one a protocol's Python function uses.
`Context` adds what `Step.run` needs: the step's models and `record`.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from personascope.models import Model, ModelConfig
    from personascope.protocol._result import StepResult
    from personascope.store import Cache

Advance = Callable[[int], None]


class Env(Protocol):
    seed: int
    cache: "Cache"

    def model(self, name: "str | ModelConfig | Model") -> "Model":
        """A second model (judge, simulated user, ...): a study alias with its whole
        config, else any model name."""
        ...

    def resolve(self, path: str | Path) -> Path:
        """A file path from the config."""
        ...

    def resolve_spec(self, spec: str) -> str:
        """An intervention or projection spec `VECTOR@...` with VECTOR a real path."""
        ...

    def progress(self, description: str, total: int) -> AbstractContextManager[Advance]:
        """A progress bar for `total` items; yields `advance(n)`."""
        ...


class Context(Env, Protocol):
    def models(self) -> Sequence[tuple[str, "Model"]]:
        """(alias, model) for each model the step runs on."""
        ...

    def record(self, alias: str, result: "StepResult", *, name: str | None = None) -> None:
        """Write a result: its JSON artifact, metrics and transcripts."""
        ...


@dataclass
class LocalEnv:
    """The environment of a protocol's Python function: no study, no run directory.
    Paths resolve against `base_dir` (default: the current folder)."""

    seed: int = 0
    cache: "Cache | None" = None
    show_progress: bool = False
    base_dir: Path = field(default_factory=Path.cwd)
    progress_fn: Callable | None = None
    """A `progress(description, total)` context manager to use instead of the built-in bar."""
    models: dict = field(default_factory=dict)
    """Second models by name, like a study's aliases: `model(name)` hands these out
    first (a loaded `Model` as it is), so a caller's judge is the one used."""

    def __post_init__(self) -> None:
        if self.cache is None:
            from personascope.store import Cache

            self.cache = Cache()

    def model(self, name):
        from personascope.models import get_model

        if isinstance(name, str) and name in self.models:
            return get_model(self.models[name], cache=self.cache)
        return get_model(name, cache=self.cache)

    def resolve(self, path: str | Path) -> Path:
        return (self.base_dir / Path(path).expanduser()).resolve()

    def resolve_spec(self, spec: str) -> str:
        return spec

    @contextmanager
    def progress(self, description: str, total: int) -> Iterator[Advance]:
        if self.progress_fn is not None:
            with self.progress_fn(description, total) as advance:
                yield advance
            return
        from personascope._progress import bar

        with bar(description, total, enabled=self.show_progress) as advance:
            yield advance
