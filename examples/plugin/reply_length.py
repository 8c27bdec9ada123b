"""A complete protocol outside the package: ask some questions in each arm and
measure how long and how exclamatory the answers are (docs/architecture.md).

Use it from a study with this folder on the Python path:

    PYTHONPATH=examples/plugin personascope study run examples/plugin/reply_length.yaml
"""

from dataclasses import dataclass
from typing import ClassVar

from pydantic import Field

from personascope.judges import scorer
from personascope.protocol import Arm, Step, default_arms, step_type
from personascope.report import StepView, default_section, section
from personascope.stats import bootstrap_mean
from personascope.store import Metric, Transcript


@scorer("exclaims")
def exclaims(question: str, answer: str) -> float:
    """0..100: exclamation marks in the answer, 20 per mark, capped at 5 marks."""
    return 100.0 * min(answer.count("!"), 5) / 5


@dataclass
class LengthResult:
    """Answers per arm with their word counts and exclamation scores (a `StepResult`)."""

    model: str
    rows: list[dict]

    def to_json(self) -> dict:
        return {"model": self.model, "rows": self.rows}

    def metrics(self, step: str, model: str) -> list[Metric]:
        out = []
        for arm in dict.fromkeys(r["arm"] for r in self.rows):
            for name in ("words", "exclaims"):
                values = [r[name] for r in self.rows if r["arm"] == arm]
                est = bootstrap_mean(values)
                out.append(Metric(step, name, est.value, arm=arm, model=model, ci_low=est.low, ci_high=est.high,
                                  n=est.n, headline=name == "words"))
        return out

    def transcripts(self, step: str, model: str) -> list[Transcript]:
        return [
            Transcript(id=f"{r['arm']}-{i}", step=step, model=model, arm=r["arm"], sample=f"q{i % 1000:03d}",
                       messages=[{"role": "user", "content": r["question"]}], output=r["answer"],
                       scores={"words": r["words"], "exclaims": r["exclaims"]})
            for i, r in enumerate(self.rows)
        ]


@step_type("reply-length")
class ReplyLength(Step):
    """Answer each question in each arm; report words per answer and exclamation scores."""

    questions: list[str] = Field(min_length=1)
    """The questions to ask."""
    arms: dict[str, Arm] = Field(default_factory=default_arms)
    """Conditions by name (plain, steered, a system prompt of their own, ...)."""
    max_tokens: int = Field(48, ge=1)
    """Answer length."""

    result_name: ClassVar[str] = "lengths"

    def references(self) -> set[str]:
        from personascope.protocol import spec_vector_name

        return {spec_vector_name(s) for arm in self.arms.values() for _, s in arm.specs()}

    def execute(self, model, env) -> LengthResult:
        from personascope.engine import GenerateConfig

        rows = []
        for name, arm in self.arms.items():
            specs = [(kind, env.resolve_spec(spec)) for kind, spec in arm.specs()]
            with env.progress(f"reply-length [{name}]", len(self.questions)) as advance:
                answers = model.generate(self.questions, GenerateConfig(max_new_tokens=self.max_tokens),
                                         system=arm.system, interventions=specs, progress=advance)
            for question, answer in zip(self.questions, answers):
                rows.append({"arm": name, "question": question, "answer": answer.text,
                             "words": len(answer.text.split()), "exclaims": exclaims(question, answer.text)})
        return LengthResult(model.name, rows)


@section("reply-length")
def reply_length_section(view: StepView) -> str:
    # Numbers only here; the default section below shows (escaped) example answers.
    words = {m.arm: m.value for m in view.metrics if m.name == "words"}
    summary = ", ".join(f"{arm}: {value:.1f}" for arm, value in words.items())
    return f"<p>Mean words per answer by arm: {summary}.</p>" + default_section(view)
