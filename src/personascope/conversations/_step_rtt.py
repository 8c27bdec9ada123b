"""`rtt`: the reverse Turing test, can a model pick out a copy of itself (docs/rtt.md)."""

from personascope.conversations._rtt import RTTConfig
from personascope.protocol import Step, step_type


@step_type("rtt")
class RTTStep(Step, RTTConfig):
    """The reverse Turing test on each model. A candidate's `model` (and `judge_model`)
    may be an alias from the study's `models`; set this step's `model` to the target's
    alias so that the other aliases serve as candidates only."""

    def _others(self) -> list[str]:
        return [m for m in [*(c.model for c in self.candidates), self.judge_model] if m]

    def cache_parts(self, ctx) -> dict:
        """The built-in prompts and strategies, and the other models' fingerprints."""
        import hashlib
        from importlib import resources

        from personascope.models import Model

        data = (resources.files("personascope.conversations") / "data" / "rtt.yaml").read_bytes()
        models = {name: (ctx.model(name) if name in ctx.study.models else Model(name, ctx.cache)).fingerprint()
                  for name in self._others()}
        return {"rtt": hashlib.sha256(data).hexdigest(), "models": models}

    def run(self, ctx) -> None:
        import json

        from personascope.conversations import run_rtt
        from personascope.store import Artifact

        config = RTTConfig(**self.model_dump(include=set(RTTConfig.model_fields)))
        models = {name: ctx.model(name) for name in self._others() if name in ctx.study.models}
        out = ctx.artifact_dir()
        for alias, model in ctx.models():
            result = run_rtt(model, config, seed=ctx.seed, models=models, progress=ctx.progress)
            ctx.store.add_transcripts(result.transcripts(self.id, alias))
            ctx.store.add_metrics(result.metrics(self.id, alias))
            path = out / f"rtt-{alias}.json"
            path.write_text(json.dumps(result.to_json(), indent=1, default=str))
            ctx.store.add_artifact(Artifact(self.id, f"rtt {alias}", "json", str(path.relative_to(ctx.run_dir))))
