"""`drift`: multi-turn conversations with per-turn projections and probes (docs/drift.md)."""

from pathlib import Path

from pydantic import Field

from personascope.protocol import Arm
from personascope.conversations._drift import DriftConfig
from personascope.protocol import Step, spec_vector_name, step_type


@step_type("drift")
class DriftStep(Step, DriftConfig):
    """The drift harness on each model; arms compare plain, steered and capped models."""

    arms: dict[str, Arm] = Field(default_factory=lambda: {"default": Arm()})
    """Conditions by name; slope differences are reported against the first."""

    def references(self) -> set[str]:
        specs = [*self.project, *(s for arm in self.arms.values() for _, s in arm.specs())]
        return {spec_vector_name(s) for s in specs}

    def _script(self, base_dir: Path) -> str | None:
        return str((base_dir / self.script).expanduser().resolve()) if self.script else None

    def input_files(self, ctx) -> list[Path]:
        step_ids = {s.id for s in ctx.study.steps}
        script = [Path(self._script(ctx.study.base_dir))] if self.script else []
        return script + [ctx.vector_path(name) for name in self.references() - step_ids]

    def cache_parts(self, ctx) -> dict:
        """The built-in families (editing them must not reuse old results) and the user model."""
        import hashlib
        from importlib import resources

        data = (resources.files("personascope.conversations") / "data" / "families.yaml").read_bytes()
        parts = {"families": hashlib.sha256(data).hexdigest()}
        if self.user_model:
            user = ctx.model(self.user_model) if self.user_model in ctx.study.models else None
            parts["user_model"] = user.fingerprint() if user is not None else self.user_model
        return parts

    def run(self, ctx) -> None:
        import json

        from personascope.conversations import run_drift
        from personascope.store import Artifact

        config = DriftConfig(**{**self.model_dump(include=set(DriftConfig.model_fields)), "script": self._script(ctx.study.base_dir)})
        if self.user_model and self.user_model in ctx.study.models:
            config.user_model = ctx.study.models[self.user_model].name
        out = ctx.artifact_dir()
        for alias, model in ctx.models():
            result = run_drift(model, config, arms=self.arms, seed=ctx.seed, progress=ctx.progress, resolve=ctx.resolve_spec)
            ctx.store.add_transcripts(result.transcripts(self.id, alias))
            ctx.store.add_metrics(result.metrics(self.id, alias))
            path = out / f"drift-{alias}.json"
            path.write_text(json.dumps(result.to_json(), indent=1, default=str))
            ctx.store.add_artifact(Artifact(self.id, f"drift {alias}", "json", str(path.relative_to(ctx.run_dir))))
