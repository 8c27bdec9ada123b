"""The one result contract every protocol's result satisfies."""

from typing import Any, Protocol, runtime_checkable

from personascope.store import Metric, Transcript


@runtime_checkable
class StepResult(Protocol):
    """What a step's `execute` returns and `Context.record` writes: a JSON form (the
    run's artifact, which report sections read), metrics and transcripts for the
    run store. `artifacts(dir)` may write more files and return their names."""

    def to_json(self) -> dict[str, Any]: ...

    def metrics(self, step: str, model: str) -> list[Metric]: ...

    def transcripts(self, step: str, model: str) -> list[Transcript]: ...


def check_result(result: Any) -> StepResult:
    """`result` if it meets the contract; a clear error (naming what is missing) if not."""
    missing = [name for name in ("to_json", "metrics", "transcripts") if not callable(getattr(result, name, None))]
    if missing:
        raise TypeError(f"{type(result).__name__} is not a StepResult: it lacks {', '.join(missing)}")
    return result
