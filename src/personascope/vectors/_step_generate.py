"""`generate`: answer prompts with each model in one or more arms (plain, steered,
capped...), optionally projecting every response on persona vectors."""

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from personascope.errors import PersonascopeError
from personascope.protocol import Arm, Step, default_arms, spec_vector_name, step_type
from personascope.protocol._arms import _as_list
from personascope.vectors._step_prompts import PromptSource, check_prompt_source, load_prompts


@step_type("generate")
class GenerateStep(Step):
    """Generate responses to prompts, per model and arm."""

    prompts: PromptSource
    """User messages inline, or a file beside the config (JSONL or one prompt a line)."""
    system: str | None = None
    """System prompt for every arm that sets none."""
    arms: dict[str, Arm] = Field(default_factory=default_arms)
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
        return files + [ctx.vector_path(name) for name in self.references() - ctx.step_ids()]

    def check_files(self, base_dir: Path):
        return [("prompts", p, f) for p, f in check_prompt_source(self.prompts, base_dir)]

    def execute(self, model, env) -> "GenerateResult":
        """Answer every prompt in every arm; project each response on the `project` vectors."""
        from personascope.engine import GenerateConfig
        from personascope.stats import bootstrap_mean
        from personascope.vectors import PersonaVector

        prompts = load_prompts(self.prompts, env.resolve("."))
        projections = []
        for spec in self.project:
            path, _, layer = env.resolve_spec(spec).rpartition("@")
            try:
                projections.append((spec, PersonaVector.load(path), int(layer)))
            except ValueError:
                raise PersonascopeError(f"step {self.id}: projection {spec!r} needs one layer: write VECTOR@LAYER") from None
        needs_white_box = bool(projections) or any(arm.specs() for arm in self.arms.values())
        if needs_white_box and not model.white_box:
            raise PersonascopeError(
                f"step {self.id}: {model.name} is a black-box model; steering and projection need smollm2 or hf/<path>"
            )
        result = GenerateResult(samples=self.samples)
        for arm_name, arm in self.arms.items():
            system = arm.system if arm.system is not None else self.system
            specs = [(kind, env.resolve_spec(s)) for kind, s in arm.specs()]
            rows = []
            for s in range(self.samples):
                config = GenerateConfig(
                    max_new_tokens=self.max_tokens, temperature=self.temperature, top_p=self.top_p,
                    seed=env.seed + s if self.temperature > 0 else None,
                )
                label = arm_name + (f" / sample {s + 1}" if self.samples > 1 else "")
                with env.progress(label, len(prompts)) as advance:
                    gens = model.generate([p for _, p in prompts], config, system=system, interventions=specs, progress=advance)
                rows += [(sid, prompt, s, g) for (sid, prompt), g in zip(prompts, gens)]
            scores: list[dict] = [{} for _ in rows]
            for spec, vector, layer in projections:
                with env.progress(f"{arm_name}: project {spec}", len(rows)) as advance:
                    acts = model.capture(
                        [p for _, p, _, _ in rows], [g.text for *_, g in rows], layers=[layer], system=system, progress=advance
                    )
                values = vector.project(acts["response_mean"][:, 0], layer).tolist()
                for score, v in zip(scores, values):
                    score[f"projection {spec}"] = v
                result.stats.append((arm_name, f"projection {spec}", bootstrap_mean(values, seed=env.seed), True))
            lengths = [len(g.token_ids) for *_, g in rows]
            if any(lengths):
                result.stats.append((arm_name, "response tokens", bootstrap_mean(lengths, seed=env.seed), False))
            interventions = [f"{k} {s_}" for k, s_ in arm.specs()]
            result.answers += [(arm_name, system, interventions, row, score) for row, score in zip(rows, scores)]
        return result


@dataclass
class GenerateResult:
    """One model's responses per arm, with their projections and summary statistics."""

    samples: int = 1
    stats: list[tuple] = field(default_factory=list)
    """(arm, metric name, estimate, headline) in the order they were measured."""
    answers: list[tuple] = field(default_factory=list)
    """(arm, system prompt, interventions, (sample id, prompt, sample index, generation), scores)."""

    def to_json(self) -> dict:
        return {
            "samples": self.samples,
            "responses": {arm: sum(a[0] == arm for a in self.answers) for arm in dict.fromkeys(a[0] for a in self.answers)},
            "stats": [{"arm": arm, "name": name, "value": e.value, "ci_low": e.low, "ci_high": e.high, "n": e.n, "headline": head}
                      for arm, name, e, head in self.stats],
        }

    def metrics(self, step: str, model: str) -> list:
        from personascope.store import Metric

        return [Metric(step, name, e.value, arm, model, e.low, e.high, e.n, headline=head) for arm, name, e, head in self.stats]

    def transcripts(self, step: str, model: str) -> list:
        from personascope.store import Transcript, cache_key

        return [
            Transcript(
                id=cache_key(step=step, model=model, arm=arm, sample=sid, n=s)[:16],
                step=step, model=model, arm=arm, sample=sid if self.samples == 1 else f"{sid}#{s + 1}",
                messages=_messages(prompt, system) + [{"role": "assistant", "content": g.text}],
                output=g.text, scores=score,
                metadata={"finish_reason": g.finish_reason, "tokens": len(g.token_ids), "interventions": interventions},
            )
            for arm, system, interventions, (sid, prompt, s, g), score in self.answers
        ]


def _messages(prompt, system):
    from personascope.engine._chat import to_messages

    return to_messages(prompt, system)
