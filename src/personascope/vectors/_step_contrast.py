"""`contrast`: a persona vector from two contrasting system prompts (mean response
activation under the positive prompt minus under the negative one, per layer)."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from personascope.errors import PersonascopeError
from personascope.protocol import Step, step_type
from personascope.vectors._step_prompts import PromptSource, check_prompt_source, load_prompts

if TYPE_CHECKING:
    from personascope.vectors import PersonaVector


@step_type("contrast")
class ContrastStep(Step):
    """Build a vector from responses under a positive and a negative system prompt."""

    produces_vector = True
    white_box = True

    questions: PromptSource
    """Questions answered under both system prompts (inline list or file)."""
    positive_system: str
    """System prompt that elicits the trait."""
    negative_system: str
    """System prompt that elicits its opposite."""
    max_tokens: int = Field(48, ge=1)
    """Most tokens per response."""
    pooling: Literal["response_mean", "prompt_mean", "last_prompt"] = "response_mean"
    """How each sample's activations are pooled over tokens."""

    def input_files(self, ctx) -> list[Path]:
        return [ctx.resolve(self.questions)] if isinstance(self.questions, str) else []

    def check_files(self, base_dir: Path):
        return [("questions", p, f) for p, f in check_prompt_source(self.questions, base_dir)]

    def execute(self, model, env) -> "ContrastResult":
        """Answer the questions under both system prompts and build the vector from the
        mean response activations (positive minus negative, per layer)."""
        from personascope.engine import GenerateConfig
        from personascope.stats import auroc, cohens_d
        from personascope.vectors import PersonaVector

        questions = load_prompts(self.questions, env.resolve("."))
        prompts = [p for _, p in questions]
        config = GenerateConfig(max_new_tokens=self.max_tokens)
        acts, answers = {}, []
        for side, system in (("positive", self.positive_system), ("negative", self.negative_system)):
            with env.progress(f"{side}: generate", len(prompts)) as advance:
                gens = model.generate(prompts, config, system=system, progress=advance)
            with env.progress(f"{side}: capture", len(prompts)) as advance:
                acts[side] = model.capture(prompts, [g.text for g in gens], poolings=[self.pooling], system=system, progress=advance)[self.pooling]
            answers += [(side, system, sid, p, g) for (sid, p), g in zip(questions, gens)]
        pos, neg = acts["positive"], acts["negative"]
        vector = PersonaVector(
            pos.nanmean(0) - neg.nanmean(0),
            {
                "name": self.id, "model": model.name, "weights_hash": model.fingerprint().get("weights"),
                "method": "contrast (mean activation, positive minus negative system prompt)",
                "pooling": self.pooling, "layer_convention": "row i = output of decoder block i (hidden_states[i + 1])",
                "positive_system": self.positive_system, "negative_system": self.negative_system, "n_questions": len(prompts),
            },
        )
        # Separation of the very samples the vector was built from: an optimistic,
        # in-sample check that the contrast took hold, not a held-out quality measure.
        layers = []
        for layer in range(vector.n_layers):
            p = vector.project(pos[:, layer], layer).tolist()
            n = vector.project(neg[:, layer], layer).tolist()
            layers.append({"layer": layer, "norm": float(vector.norms()[layer]), "cohens_d": cohens_d(p, n), "auroc": auroc(p, n)})
        return ContrastResult(vector, layers, answers, len(prompts))

    def run(self, ctx) -> None:
        from personascope.protocol import VECTOR_DIR
        from personascope.store import Artifact

        models = ctx.models()
        if len(models) != 1:
            raise PersonascopeError(f"step {self.id}: a contrast step makes one vector; give it one model (model: ALIAS)")
        alias, model = models[0]
        result = self.execute(model, ctx)
        out = ctx.artifact_dir()
        result.vector.save(out / VECTOR_DIR)
        (out / "layers.json").write_text(json.dumps(result.layers, indent=1))
        vector = result.vector
        ctx.store.add_artifact(Artifact(self.id, "vector", "vector", str((out / VECTOR_DIR).relative_to(ctx.run_dir)), {"layers": vector.n_layers, "hidden_size": vector.hidden_size}))
        ctx.store.add_artifact(Artifact(self.id, "layers", "table", str((out / "layers.json").relative_to(ctx.run_dir)), {"columns": ["layer", "norm", "cohens_d", "auroc"], "in_sample": True}))
        ctx.record(alias, result)


@dataclass
class ContrastResult:
    """A contrast vector, its in-sample separation per layer and the responses it came from."""

    vector: "PersonaVector"
    layers: list[dict]
    """Per layer: norm, in-sample Cohen's d and AUROC."""
    answers: list[tuple]
    """(side, system prompt, sample id, prompt, generation) per response."""
    n_questions: int

    @property
    def best(self) -> dict:
        return max(self.layers, key=lambda r: r["cohens_d"] if r["cohens_d"] == r["cohens_d"] else float("-inf"))

    def to_json(self) -> dict:
        return {"best_layer": self.best["layer"], "n_questions": self.n_questions, "layers": self.layers,
                "vector": {k: v for k, v in self.vector.meta.items() if isinstance(v, (str, int, float, bool))}}

    def metrics(self, step: str, model: str) -> list:
        from personascope.store import Metric

        best, n = self.best, self.n_questions
        return [
            Metric(step, "best layer (in-sample d)", best["layer"], model=model),
            Metric(step, "in-sample Cohen's d", best["cohens_d"], model=model, n=2 * n, headline=True),
            Metric(step, "in-sample AUROC", best["auroc"], model=model, n=2 * n),
        ]

    def transcripts(self, step: str, model: str) -> list:
        from personascope.store import Transcript, cache_key

        return [
            Transcript(
                id=cache_key(step=step, side=side, sample=sid)[:16], step=step, model=model, arm=side, sample=sid,
                messages=[{"role": "system", "content": system}, *([{"role": "user", "content": p}] if isinstance(p, str) else p), {"role": "assistant", "content": g.text}],
                output=g.text, metadata={"finish_reason": g.finish_reason, "tokens": len(g.token_ids)},
            )
            for side, system, sid, p, g in self.answers
        ]
