"""The steering check: does adding the vector put the trait into what the model writes?

At one layer and increasing coefficients the model answers held-out questions;
each answer is then read again with no hooks installed and projected on the
vector at that layer, so the number measures what the *text* carries, not the
hook's own push. A working vector raises the mean projection with the
coefficient. The trait's programmatic scorers (e.g. sentiment) are measured on
the same answers. For a grid over layers, with judges, see `sweep`.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from personascope.stats import Estimate, bootstrap_mean

if TYPE_CHECKING:
    from personascope.models import Model


@dataclass
class SteerRow:
    """One coefficient: the answers, their projections and scorer values, and their means."""

    coef: float
    texts: list[str]
    projections: list[float]
    projection: Estimate
    scores: dict[str, list[float]] = field(default_factory=dict)
    score_means: dict[str, Estimate] = field(default_factory=dict)

    def as_dict(self) -> dict:
        est = self.projection
        out = {"coef": self.coef, "projection": est.value, "low": est.low, "high": est.high, "n": est.n}
        for name, s in self.score_means.items():
            out[name] = {"mean": s.value, "low": s.low, "high": s.high}
        return out


def monotonic(rows: Sequence[SteerRow]) -> bool:
    """Whether the mean projection rises strictly with the coefficient."""
    means = [r.projection.value for r in sorted(rows, key=lambda r: r.coef)]
    return all(b > a for a, b in zip(means, means[1:]))


def steer_check(
    model: "Model",
    vector_dir: str | Path,
    layer: int,
    questions: Sequence[str],
    coefs: Sequence[float],
    *,
    max_tokens: int = 48,
    batch_size: int = 16,
    scorers: dict[str, Callable[[str, str], float]] | None = None,
    seed: int = 0,
    steps=None,
) -> list[SteerRow]:
    """Answer `questions` steered at `layer` with each coefficient (0 = plain generation)."""
    from personascope.engine import GenerateConfig
    from personascope.vectors._build import no_steps
    from personascope.vectors._vector import PersonaVector

    steps = steps or no_steps
    vector = PersonaVector.load(vector_dir)
    config = GenerateConfig(max_new_tokens=max_tokens, batch_size=batch_size)
    questions = list(questions)
    rows = []
    for coef in coefs:
        specs = [("steer", f"{vector_dir}@{layer}:{coef}")] if coef != 0 else []
        with steps(f"steer check: coef {coef:g}", 2 * len(questions)) as advance:
            texts = [g.text for g in model.generate(questions, config, interventions=specs, progress=advance)]
            acts = model.capture(questions, texts, layers=[layer], progress=advance)["response_mean"]
        values = vector.project(acts[:, 0], layer).tolist()
        row = SteerRow(coef, texts, values, bootstrap_mean(values, seed=seed))
        for name, fn in (scorers or {}).items():
            row.scores[name] = [fn(q, t) for q, t in zip(questions, texts)]
            row.score_means[name] = bootstrap_mean(row.scores[name], seed=seed)
        rows.append(row)
    return rows
