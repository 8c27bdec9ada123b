"""`eval`: an evaluation suite (docs/evals.md) on each model, in one or more arms."""

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from personascope.protocol import Arm
from personascope.protocol import Step, spec_vector_name, step_type


@step_type("eval")
class EvalStep(Step):
    """Run an evaluation suite; arms compare plain, steered or capped models."""

    suite: str
    """Suite name: trait, misalignment, self-identity, distress, psychometrics, mwe."""
    options: dict[str, Any] = Field(default_factory=dict)
    """The suite's own options (e.g. `trait: evil`); file paths are relative to the config."""
    arms: dict[str, Arm] = Field(default_factory=lambda: {"default": Arm()})
    """Conditions by name; differences are reported against the first."""
    system: str | None = None
    """System prompt for every arm that sets none (replaces the items' own)."""
    limit: int | None = Field(None, ge=1)
    """Use only the suite's first N items (suites spread them over their groups)."""
    judge_model: str | None = None
    """A model alias of the study, or a model name; default: each evaluated model, unsteered."""
    max_tokens: int | None = Field(None, ge=1)
    """Answer length; default: the suite's."""
    samples: int = Field(1, ge=1)
    """Answers per item (more than one needs temperature > 0)."""
    temperature: float = Field(0.0, ge=0.0)

    @model_validator(mode="after")
    def _check(self) -> "EvalStep":
        from personascope.evals import list_suites

        if self.suite not in list_suites():
            raise ValueError(f"unknown suite {self.suite!r}: choose from {', '.join(list_suites())}")
        if self.samples > 1 and self.temperature == 0:
            raise ValueError("samples > 1 with temperature 0 repeats the same greedy answer: set temperature > 0")
        if not self.arms:
            raise ValueError("arms is empty: leave it out for one plain arm")
        return self

    def references(self) -> set[str]:
        return {spec_vector_name(s) for arm in self.arms.values() for _, s in arm.specs()}

    def _options(self, base_dir: Path) -> dict[str, Any]:
        """Options with file paths resolved against the config's folder (where such a
        file exists; built-in names stay as they are). List options resolve per entry."""
        from personascope.evals import get_suite

        def resolve(value):
            if isinstance(value, list):
                return [resolve(v) for v in value]
            if isinstance(value, str) and value and (base_dir / value).expanduser().exists():
                return str((base_dir / value).expanduser().resolve())
            return value

        out = dict(self.options)
        for name in get_suite(self.suite).paths:
            if name in out:
                out[name] = resolve(out[name])
        return out

    def input_files(self, ctx) -> list[Path]:
        from personascope.evals import get_suite

        opts = self._options(ctx.study.base_dir)
        files: list[Path] = []
        for name in get_suite(self.suite).paths:
            values = opts.get(name)
            for value in values if isinstance(values, list) else [values]:
                path = Path(value) if isinstance(value, str) and value else None
                if path is not None and path.is_absolute() and path.exists():
                    files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        step_ids = {s.id for s in ctx.study.steps}
        return files + [ctx.vector_path(name) for name in self.references() - step_ids]

    def cache_parts(self, ctx) -> dict:
        """The suite's code and built-in data (editing them must not reuse old
        results) and the judge model's fingerprint."""
        import hashlib
        import inspect
        from importlib import resources

        from personascope.evals import get_suite

        h = hashlib.sha256(inspect.getsource(type(get_suite(self.suite))).encode())
        data = resources.files("personascope.evals") / "data"
        for path in sorted(_files(data), key=str):
            h.update("/".join(str(path).split("/")[-2:]).encode() + path.read_bytes())
        parts = {"suite": h.hexdigest()}
        if self.judge_model is not None:
            judge = ctx.model(self.judge_model) if self.judge_model in ctx.study.models else None
            parts["judge"] = judge.fingerprint() if judge is not None else self.judge_model
        return parts

    def run(self, ctx) -> None:
        import json

        from personascope.evals import run_eval
        from personascope.store import Artifact

        arms = {
            name: arm.model_copy(update={
                "steer": [ctx.resolve_spec(s) for s in arm.steer],
                "ablate": [ctx.resolve_spec(s) for s in arm.ablate],
                "cap": [ctx.resolve_spec(s) for s in arm.cap],
                "system": arm.system if arm.system is not None else self.system,
            })
            for name, arm in self.arms.items()
        }
        judge = None
        if self.judge_model is not None:
            judge = ctx.model(self.judge_model) if self.judge_model in ctx.study.models else self.judge_model
        out = ctx.artifact_dir()
        for alias, model in ctx.models():
            result = run_eval(
                self.suite, model, options=self._options(ctx.study.base_dir), arms=arms, limit=self.limit,
                judge_model=judge, max_tokens=self.max_tokens, samples=self.samples, temperature=self.temperature,
                seed=ctx.seed, cache=ctx.cache, progress=ctx.progress,
            )
            ctx.store.add_transcripts(result.transcripts(self.id, alias))
            ctx.store.add_metrics(result.metrics(self.id, alias))
            path = out / f"result-{alias}.json"
            path.write_text(json.dumps(result.to_json(), indent=1, default=str))
            ctx.store.add_artifact(Artifact(self.id, f"result {alias}", "json", str(path.relative_to(ctx.run_dir)), {"suite": self.suite}))


def _files(folder):
    """Every file under an importlib resource folder (absent folder: none)."""
    if not folder.is_dir():
        return []
    out = []
    for entry in folder.iterdir():
        out += _files(entry) if entry.is_dir() else [entry]
    return out
