"""`selfchat`: two copies of each model talk freely; end states over seeds (docs/selfchat.md)."""

from pathlib import Path

from personascope.conversations._selfchat import SelfChatConfig
from personascope.protocol import Step, spec_vector_name, step_type


@step_type("selfchat")
class SelfChatStep(Step, SelfChatConfig):
    """Self-chat attractors: where free conversations of a model with itself end up."""

    def references(self) -> set[str]:
        return {spec_vector_name(s) for s in self.project}

    def _data(self, base_dir: Path) -> str | None:
        return str((base_dir / self.data).expanduser().resolve()) if self.data else None

    def input_files(self, ctx) -> list[Path]:
        step_ids = {s.id for s in ctx.study.steps}
        data = [Path(self._data(ctx.study.base_dir))] if self.data else []
        return data + [ctx.vector_path(name) for name in self.references() - step_ids]

    def cache_parts(self, ctx) -> dict:
        """The built-in setup (editing it must not reuse old results) and the judge model."""
        import hashlib
        from importlib import resources

        data = (resources.files("personascope.conversations") / "data" / "selfchat.yaml").read_bytes()
        parts = {"selfchat": hashlib.sha256(data).hexdigest()}
        if self.judge_model:
            judge = ctx.model(self.judge_model) if self.judge_model in ctx.study.models else None
            parts["judge"] = judge.fingerprint() if judge is not None else self.judge_model
        return parts

    def run(self, ctx) -> None:
        import json

        from personascope.conversations import run_selfchat
        from personascope.store import Artifact

        config = SelfChatConfig(**{**self.model_dump(include=set(SelfChatConfig.model_fields)), "data": self._data(ctx.study.base_dir)})
        if self.judge_model and self.judge_model in ctx.study.models:
            config.judge_model = ctx.study.models[self.judge_model].name
        out = ctx.artifact_dir()
        for alias, model in ctx.models():
            result = run_selfchat(model, config, seed=ctx.seed, cache=ctx.cache, progress=ctx.progress, resolve=ctx.resolve_spec)
            ctx.store.add_transcripts(result.transcripts(self.id, alias))
            ctx.store.add_metrics(result.metrics(self.id, alias))
            path = out / f"selfchat-{alias}.json"
            path.write_text(json.dumps(result.to_json(), indent=1, default=str))
            ctx.store.add_artifact(Artifact(self.id, f"selfchat {alias}", "json", str(path.relative_to(ctx.run_dir))))
