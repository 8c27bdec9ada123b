"""Layer x coefficient sweeps: where, and how hard, to steer with a persona vector.

For each (layer, coef) cell the model answers the trait's held-out eval questions
with the vector added at that one layer; a judge scores trait expression and
coherence (0-100), the trait's programmatic scorers add their numbers, and each
answer's projection on the vector at that layer is measured with no hooks
installed (what the *text* carries, not the hook's own push).

Best layer rule: among cells with coef != 0 whose mean coherence is at least the
floor, the one with the highest mean trait score (or another metric: `select_by`
a scorer's name or `projection`, for judges too weak to score the rubric); ties
go to higher coherence, then the smaller |coef|. Coherence matters because strong steering raises a
judge's trait score on word salad; coef 0 is the unsteered baseline, the same at
every layer, so it cannot pick one.
"""

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from personascope.errors import PersonascopeError
from personascope.vectors._vector import PersonaVector

RULE = "highest mean {by} among cells with coef != 0 and mean coherence >= the floor"
METRICS = ("trait", "coherence", "projection")


class SweepConfig(BaseModel):
    """What a sweep runs (saved in sweep.json as sorted JSON)."""

    model_config = ConfigDict(extra="forbid")

    layers: list[int] = Field(min_length=1)
    """Layers to steer at, one per cell (layer i = output of decoder block i)."""
    coefs: list[float] = Field(min_length=1)
    """Steering coefficients: multiples of the stored vector row, added at every position."""
    n_questions: int = Field(10, ge=1)
    """Held-out questions answered per cell (the first n of the trait's eval split)."""
    max_tokens: int = Field(64, ge=1)
    """Most tokens per steered answer."""
    coherence_floor: float = Field(50.0, ge=0, le=100)
    """Mean coherence (0-100) a cell needs to be chosen as the best setting."""
    judge_model: str | None = None
    """Model that judges trait and coherence; None uses the swept model, unsteered."""
    batch_size: int = Field(16, ge=1)
    """Prompts per generation batch."""
    select_by: str = "trait"
    """Metric the best cell maximises: `trait` (the judge), `projection`, or a scorer's name."""


@dataclass
class SweepResult:
    """Rows (one per cell, means with bootstrap CIs), the choice, and every sample."""

    vector: str
    model: str
    trait: str | None
    config: SweepConfig
    rows: list[dict]
    best: dict | None
    samples: list[dict] = field(default_factory=list)
    scorers: list[str] = field(default_factory=list)
    """Programmatic scorers with a column each (beside trait, coherence, projection)."""
    out_dir: Path | None = None

    @property
    def rule(self) -> str:
        return RULE.format(by=self.config.select_by)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": 1, "vector": self.vector, "model": self.model, "trait": self.trait,
            "config": self.config.model_dump(mode="json"), "rule": self.rule, "best": self.best,
            "scorers": self.scorers, "rows": self.rows, "samples": self.samples,
        }


def choose_best(rows: Sequence[dict], floor: float, by: str = "trait") -> dict | None:
    """The best cell under `RULE`, or None when no steered cell is coherent enough."""
    ok = [
        r for r in rows
        if r["coef"] != 0 and _finite(r[by]) and _finite(r["coherence"]) and r["coherence"] >= floor
    ]
    if not ok:
        return None
    best = max(ok, key=lambda r: (r[by], r["coherence"], -abs(r["coef"])))
    return {k: best[k] for k in dict.fromkeys(("layer", "coef", "trait", "coherence", "projection", by))}


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _values(judgments: Sequence[Any]) -> list[float | None]:
    """Judgment objects, bare numbers or None (a failed or refused judgment) as floats."""
    out = []
    for j in judgments:
        v = getattr(j, "score", j)
        out.append(float(v) if _finite(v) else None)
    return out


def _run_scorer(scorer: Any, questions: list[str], answers: list[str]) -> list[float | None]:
    if hasattr(scorer, "score"):
        return _values(scorer.score(questions, answers))
    return _values([scorer(q, a) for q, a in zip(questions, answers)])  # fn(question, answer) -> 0..100


def _resolve_trait(trait, meta: dict):
    from personascope.traits import TraitSpec

    if isinstance(trait, TraitSpec):
        return trait
    name = trait or meta.get("trait")
    if isinstance(name, dict):
        name = name.get("name")
    if not name:
        return None
    from personascope.traits import load_trait

    return load_trait(str(name))


def sweep_vector(
    vector_dir: str | Path,
    model: Any,
    *,
    layers: Sequence[int],
    coefs: Sequence[float],
    questions: Sequence[str] | None = None,
    trait: Any = None,
    judge_model: str | None = None,
    coherence_floor: float = 50.0,
    n_questions: int = 10,
    max_tokens: int = 64,
    batch_size: int = 16,
    cache=None,
    select_by: str = "trait",
    progress: bool = False,
    out: str | Path | None = None,
    trait_judge: Any = None,
    coherence_judge: Any = None,
    scorers: dict[str, Any] | None = None,
) -> SweepResult:
    """Sweep steering over `layers` x `coefs`; write sweep.csv/json/png to `out`
    (default `<vector_dir>/sweep`) and return the result.

    The trait comes from `trait` (name, path or TraitSpec) or the vector's meta
    `trait`; `questions` replace its eval questions. `trait_judge`,
    `coherence_judge` (objects with `.score(questions, answers)`) and `scorers`
    ({name: scorer}) replace the defaults built from `judge_model` and the spec.
    """
    from personascope._progress import track
    from personascope.engine import GenerateConfig
    from personascope.engine._layers import check_layers
    from personascope.stats import bootstrap_mean
    from personascope.models import get_model

    config = SweepConfig(
        layers=list(layers), coefs=list(coefs), n_questions=n_questions, max_tokens=max_tokens,
        coherence_floor=coherence_floor, judge_model=judge_model, batch_size=batch_size, select_by=select_by,
    )
    vector_dir = Path(vector_dir).expanduser()
    vec = PersonaVector.load(vector_dir)
    cm = get_model(model, cache=cache)
    spec = _resolve_trait(trait, vec.meta)
    qs = list(questions) if questions else (list(spec.questions.eval) if spec else [])
    if not qs:
        raise PersonascopeError(f"no questions to sweep with: {vector_dir}/meta.json names no trait; give a trait or questions")
    qs = qs[: config.n_questions]
    n_layers = cm.n_layers()
    if vec.n_layers != n_layers:
        raise PersonascopeError(f"vector {vector_dir} has {vec.n_layers} layer rows but {cm.name} has {n_layers} layers")
    config.layers = check_layers(config.layers, n_layers)
    # Without a judge model the swept model judges itself, unsteered (judges never steer).
    trait_judge, coherence_judge, scorers = _judges(spec, judge_model or cm, cm.cache, trait_judge, coherence_judge, scorers)
    if select_by not in (*METRICS, *scorers):
        raise PersonascopeError(f"select_by {select_by!r} is not measured here: choose from {', '.join((*METRICS, *scorers))}")

    gen_config = GenerateConfig(max_new_tokens=config.max_tokens, batch_size=config.batch_size)
    cells = [(layer, coef) for layer in config.layers for coef in config.coefs]
    samples: list[dict] = []
    for layer, coef in track(cells, len(cells), f"sweeping {len(cells)} cells x {len(qs)} questions", progress):
        # coef 0 runs unhooked, so the baseline shares the cache with plain generation.
        ivs = [("steer", f"{vector_dir}@{layer}:{coef!r}")] if coef else []
        answers = [g.text for g in cm.generate(qs, gen_config, interventions=ivs)]
        acts = cm.capture(qs, answers, layers=[layer])["response_mean"][:, 0]
        for q, a, p in zip(qs, answers, vec.project(acts, layer).tolist()):
            samples.append({"layer": layer, "coef": coef, "question": q, "answer": a, "projection": p if math.isfinite(p) else None})

    # Judge each distinct (question, answer) once: coef-0 cells repeat across layers.
    unique = list(dict.fromkeys((s["question"], s["answer"]) for s in samples))
    uq, ua = [q for q, _ in unique], [a for _, a in unique]
    scored = {"trait": _values(trait_judge.score(uq, ua)) if trait_judge else [None] * len(unique)}
    scored["coherence"] = _values(coherence_judge.score(uq, ua))
    for name, scorer in scorers.items():
        scored[name] = _run_scorer(scorer, uq, ua)
    at = {pair: i for i, pair in enumerate(unique)}
    for s in samples:
        s.update({k: v[at[(s["question"], s["answer"])]] for k, v in scored.items()})

    rows = []
    for layer, coef in cells:
        cell = [s for s in samples if s["layer"] == layer and s["coef"] == coef]
        row: dict[str, Any] = {"layer": layer, "coef": coef, "n": len(cell)}
        for metric in ["trait", "coherence", "projection", *scorers]:
            est = bootstrap_mean([s[metric] for s in cell])
            row.update({metric: est.value, f"{metric}_low": est.low, f"{metric}_high": est.high, f"{metric}_n": est.n})
        rows.append(row)
    result = SweepResult(
        vector=str(vector_dir), model=cm.name, trait=spec.name if spec else vec.meta.get("trait"), config=config,
        rows=rows, best=choose_best(rows, config.coherence_floor, select_by), samples=samples, scorers=list(scorers),
    )
    write_sweep(result, Path(out).expanduser() if out else vector_dir / "sweep")
    return result


def _judges(spec, judge_model, cache, trait_judge, coherence_judge, scorers):
    if trait_judge is None and spec is not None:
        from personascope.judges import trait_judge as make_trait_judge

        trait_judge = make_trait_judge(spec, judge_model, cache=cache)
    if coherence_judge is None:
        from personascope.judges import coherence_judge as make_coherence_judge

        coherence_judge = make_coherence_judge(judge_model, cache=cache)
    if scorers is None:
        scorers = {}
        if spec is not None and spec.scorers:
            from personascope.judges import get_scorer

            scorers = {name: get_scorer(name) for name in spec.scorers}
    return trait_judge, coherence_judge, dict(scorers)


def write_sweep(result: SweepResult, out: Path) -> Path:
    """sweep.csv (the rows), sweep.json (everything) and sweep.png, each written atomically.

    The figure is drawn by the report layer, reached through the registry's
    `sweep_figure` hook (vectors sit below the report and never import it).
    """
    from personascope import registry
    from personascope.vectors._compare import atomic_write, plain_json

    out.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(result.rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(plain_json(result.rows))
    atomic_write(out / "sweep.csv", buf.getvalue().encode())
    text = json.dumps(plain_json(result.to_json()), indent=2, sort_keys=True, default=str)
    atomic_write(out / "sweep.json", text.encode())
    atomic_write(out / "sweep.png", registry.get("hook", "sweep_figure")(result))
    result.out_dir = out
    return out
