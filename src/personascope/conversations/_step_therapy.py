"""`therapy`: therapy-style sessions, then psychometric questionnaires (docs/therapy.md)."""

from pathlib import Path

from pydantic import Field

from personascope.protocol import Arm
from personascope.conversations._therapy import TherapyConfig
from personascope.protocol import Step, spec_vector_name, step_type


@step_type("therapy")
class TherapyStep(Step, TherapyConfig):
    """Sessions with a therapist, then the psychometrics suite with and without their history."""

    arms: dict[str, Arm] = Field(default_factory=lambda: {"default": Arm()})
    """Conditions the whole protocol runs under (plain, steered, capped, own system prompt)."""

    def references(self) -> set[str]:
        return {spec_vector_name(s) for arm in self.arms.values() for _, s in arm.specs()}

    def _resolved(self, base_dir: Path) -> TherapyConfig:
        """The config with file paths (script, instrument files, items file) taken
        relative to the study config's folder; built-in names stay as they are."""

        def resolve(value):
            if isinstance(value, str) and value and (base_dir / value).expanduser().exists():
                return str((base_dir / value).expanduser().resolve())
            return value

        fields = self.model_dump(include=set(TherapyConfig.model_fields))
        fields["script"] = str((base_dir / self.script).expanduser().resolve()) if self.script else None
        fields["instruments"] = [resolve(v) for v in self.instruments]
        if self.options.get("items"):
            fields["options"] = {**self.options, "items": resolve(self.options["items"])}
        return TherapyConfig(**fields)

    def input_files(self, ctx) -> list[Path]:
        config = self._resolved(ctx.study.base_dir)
        paths = [config.script, *config.instruments, config.options.get("items")]
        files = [Path(p) for p in paths if isinstance(p, str) and Path(p).is_absolute() and Path(p).is_file()]
        step_ids = {s.id for s in ctx.study.steps}
        return files + [ctx.vector_path(name) for name in self.references() - step_ids]

    def cache_parts(self, ctx) -> dict:
        """The built-in script, the code that asks and scores, and the suites' data:
        editing any of them must not reuse old results."""
        import hashlib
        import inspect
        from importlib import resources

        from personascope.evals.suites import distress, psychometrics
        from personascope.conversations import _therapy

        h = hashlib.sha256((resources.files("personascope.conversations") / "data" / "therapy.yaml").read_bytes())
        for module in (_therapy, psychometrics, distress):
            h.update(inspect.getsource(module).encode())
        data = resources.files("personascope.evals") / "data"
        for path in sorted([data / "distress.yaml", *(data / "instruments").iterdir()], key=lambda p: p.name):
            h.update(path.name.encode() + path.read_bytes())
        return {"therapy": h.hexdigest()}

    def run(self, ctx) -> None:
        import json

        from personascope.conversations._therapy import run_therapy
        from personascope.store import Artifact

        config = self._resolved(ctx.study.base_dir)
        out = ctx.artifact_dir()
        for alias, model in ctx.models():
            result = run_therapy(model, config, arms=self.arms, seed=ctx.seed, progress=ctx.progress, resolve=ctx.resolve_spec)
            ctx.store.add_transcripts(result.transcripts(self.id, alias))
            ctx.store.add_metrics(result.metrics(self.id, alias))
            path = out / f"therapy-{alias}.json"
            path.write_text(json.dumps(result.to_json(), indent=1, default=str))
            ctx.store.add_artifact(Artifact(self.id, f"therapy {alias}", "json", str(path.relative_to(ctx.run_dir))))
