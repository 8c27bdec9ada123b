"""`generate`: answer prompts with each model in one or more arms (plain, steered,
capped...), optionally projecting every response on persona vectors."""

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from personascope.protocol._arms import Arm, _as_list
from personascope.errors import PersonascopeError
from personascope.protocol import Step, spec_vector_name, step_type
from personascope.vectors._step_prompts import PromptSource, check_prompt_source, load_prompts


@step_type("generate")
class GenerateStep(Step):
    """Generate responses to prompts, per model and arm."""

    prompts: PromptSource
    """User messages inline, or a file beside the config (JSONL or one prompt a line)."""
    system: str | None = None
    """System prompt for every arm that sets none."""
    arms: dict[str, Arm] = Field(default_factory=lambda: {"default": Arm()})
    """Conditions by name; `{}` for an arm means plain generation."""
    samples: int = Field(1, ge=1)
    """Responses per prompt (more than one needs temperature > 0)."""
    max_tokens: int = Field(128, ge=1)
    """Most tokens per response."""
    temperature: float = Field(0.0, ge=0.0)
    """0 decodes greedily."""
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    """Nucleus sampling mass."""
    project: list[str] = Field(default_factory=list)
    """Projection specs `VECTOR@LAYER`: each response's mean activation on the vector (no hooks active)."""

    _lists = field_validator("project", mode="before")(lambda cls, v: _as_list(v))

    @model_validator(mode="after")
    def _check(self) -> "GenerateStep":
        if self.samples > 1 and self.temperature == 0:
            raise ValueError("samples > 1 with temperature 0 repeats the same greedy answer: set temperature > 0")
        if not self.arms:
            raise ValueError("arms is empty: leave it out for one plain arm")
        return self

    def references(self) -> set[str]:
        specs = [s for arm in self.arms.values() for _, s in arm.specs()] + self.project
        return {spec_vector_name(s) for s in specs}

    def input_files(self, ctx) -> list[Path]:
        files = [ctx.resolve(self.prompts)] if isinstance(self.prompts, str) else []
        step_ids = {s.id for s in ctx.study.steps}
        return files + [ctx.vector_path(name) for name in self.references() - step_ids]

    def check_files(self, base_dir: Path):
        return [("prompts", p, f) for p, f in check_prompt_source(self.prompts, base_dir)]

    def run(self, ctx) -> None:
        from personascope.engine import GenerateConfig
        from personascope.stats import bootstrap_mean
        from personascope.store import Metric, Transcript, cache_key
        from personascope.vectors import PersonaVector

        prompts = load_prompts(self.prompts, ctx.study.base_dir)
        projections = []
        for spec in self.project:
            name, _, layer = spec.rpartition("@")
            try:
                projections.append((spec, PersonaVector.load(ctx.vector_path(name)), int(layer)))
            except ValueError:
                raise PersonascopeError(f"step {self.id}: projection {spec!r} needs one layer: write VECTOR@LAYER") from None
        metrics = []
        for alias, model in ctx.models():
            needs_white_box = bool(projections) or any(arm.specs() for arm in self.arms.values())
            if needs_white_box and not model.white_box:
                raise PersonascopeError(
                    f"step {self.id}: {model.name} is a black-box model; steering and projection need smollm2 or hf/<path>"
                )
            for arm_name, arm in self.arms.items():
                system = arm.system if arm.system is not None else self.system
                specs = [(kind, ctx.resolve_spec(s)) for kind, s in arm.specs()]
                rows = []
                for s in range(self.samples):
                    config = GenerateConfig(
                        max_new_tokens=self.max_tokens, temperature=self.temperature, top_p=self.top_p,
                        seed=ctx.seed + s if self.temperature > 0 else None,
                    )
                    label = f"{alias} / {arm_name}" + (f" / sample {s + 1}" if self.samples > 1 else "")
                    with ctx.progress(label, len(prompts)) as advance:
                        gens = model.generate([p for _, p in prompts], config, system=system, interventions=specs, progress=advance)
                    rows += [(sid, prompt, s, g) for (sid, prompt), g in zip(prompts, gens)]
                scores: list[dict] = [{} for _ in rows]
                for spec, vector, layer in projections:
                    with ctx.progress(f"{alias} / {arm_name}: project {spec}", len(rows)) as advance:
                        acts = model.capture(
                            [p for _, p, _, _ in rows], [g.text for *_, g in rows], layers=[layer], system=system, progress=advance
                        )
                    values = vector.project(acts["response_mean"][:, 0], layer).tolist()
                    for score, v in zip(scores, values):
                        score[f"projection {spec}"] = v
                    est = bootstrap_mean(values, seed=ctx.seed)
                    metrics.append(Metric(self.id, f"projection {spec}", est.value, arm_name, alias, est.low, est.high, est.n, headline=True))
                lengths = [len(g.token_ids) for *_, g in rows]
                if any(lengths):
                    est = bootstrap_mean(lengths, seed=ctx.seed)
                    metrics.append(Metric(self.id, "response tokens", est.value, arm_name, alias, est.low, est.high, est.n))
                ctx.store.add_transcripts(
                    Transcript(
                        id=cache_key(step=self.id, model=alias, arm=arm_name, sample=sid, n=s)[:16],
                        step=self.id, model=alias, arm=arm_name, sample=sid if self.samples == 1 else f"{sid}#{s + 1}",
                        messages=_messages(prompt, system) + [{"role": "assistant", "content": g.text}],
                        output=g.text, scores=score,
                        metadata={"finish_reason": g.finish_reason, "tokens": len(g.token_ids), "interventions": [f"{k} {s_}" for k, s_ in arm.specs()]},
                    )
                    for (sid, prompt, s, g), score in zip(rows, scores)
                )
        ctx.store.add_metrics(metrics)


def _messages(prompt, system):
    from personascope.engine._chat import to_messages

    return to_messages(prompt, system)
