"""Evaluation after training: each arm's models answer held-out questions under
several prompt contexts, and the trait rates, inoculation effects and retention
come with CIs from a bootstrap over training seeds and prompts.

Every reply goes through the model handle, so it is cached and a rerun is free.
A condition draws its paraphrases with a seed made of the condition's name and
the prompt's index, so every arm and seed sees the very same prompts: differences
between arms are paired.
"""

import math
import random
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from personascope.errors import PersonascopeError
from personascope.train._context import PromptContext
from personascope.train._monitor import resolve_prompts

BASE = "base"
"""The arm name of the untrained base model (EvalConfig.base)."""
THRESHOLD = 50.0
"""A reply expresses a trait when its scorer gives at least this (scorers give 0..100)."""
TRAINING = "training"
"""The condition name of each arm's own training context."""


class EvalConfig(BaseModel):
    """How the trained models are evaluated."""

    model_config = ConfigDict(extra="forbid")

    prompts: list[str] | str = "heldout"
    """Held-out questions: a list, or a built-in question set name or file (its first `n`)."""
    n: int = Field(40, ge=1)
    """How many questions of the set are asked."""
    scorers: list[str] = Field(default_factory=list)
    """Programmatic scorers (0..100) applied to every reply; a reply scoring >= 50 expresses the trait."""
    conditions: dict[str, PromptContext] = Field(default_factory=lambda: {"none": PromptContext()})
    """Prompt contexts at test time, by name: none, the inoculation prompt, its paraphrases, ..."""
    own_condition: bool = True
    """Also ask each arm under its own training context (condition `training`)."""
    max_tokens: int = Field(48, ge=1)
    """Tokens per reply."""
    temperature: float = Field(0.0, ge=0.0)
    """Sampling temperature (0: greedy)."""
    samples: int = Field(1, ge=1)
    """Replies per prompt (seeded; more than 1 only makes sense with a temperature)."""
    vectors: list[str] = Field(default_factory=list)
    """Projections as `VECTOR@LAYER` specs: each reply's mean over its tokens of layer L's output on the unit vector."""
    base: bool = False
    """Also evaluate the untrained base model, as arm `base`: means then come with each arm's shift from it."""

    @field_validator("conditions")
    @classmethod
    def _named(cls, value):
        if not value:
            raise ValueError("give at least one condition (e.g. none: {})")
        if TRAINING in value:
            raise ValueError(f"{TRAINING!r} is the name of each arm's own context (own_condition): name yours otherwise")
        return value


def _conditions(config: EvalConfig, arm: str, arm_contexts: Mapping[str, PromptContext]) -> dict[str, PromptContext]:
    out = dict(config.conditions)
    if config.own_condition and arm in arm_contexts:
        ctx = arm_contexts[arm]
        out[TRAINING] = ctx if isinstance(ctx, PromptContext) else PromptContext.model_validate(ctx)
    return out


def evaluate_models(
    models: Mapping[tuple[str, int], Any],
    config: EvalConfig,
    *,
    env,
    arm_contexts: Mapping[str, PromptContext] | None = None,
) -> list[dict]:
    """One row per (arm, seed, condition, prompt, sample):
    `{arm, seed, condition, prompt_id, sample, messages, answer, scores, projections}`.

    A model is a name or a model handle. Each of `config.vectors` is resolved with
    `env.resolve_spec` (a study's `STEP@L` becomes that step's vector), and rows keep
    the spec as written."""
    from personascope.engine import GenerateConfig
    from personascope.judges import get_scorer

    arm_contexts = arm_contexts or {}
    questions = resolve_prompts(config.prompts, config.n, "evaluate.prompts")
    scorers = {name: get_scorer(name) for name in config.scorers}
    specs = {spec: env.resolve_spec(spec) for spec in config.vectors}
    jobs = []
    for (arm, seed), name in models.items():
        for condition, ctx in _conditions(config, arm, arm_contexts).items():
            # The draw depends on the condition and the prompt only: the same for every arm and seed.
            messages = [ctx.messages(q, random.Random(f"{condition}/{i}")) for i, q in enumerate(questions)]
            jobs.append((arm, seed, name, condition, messages))
    rows: list[dict] = []
    total = len(jobs) * len(questions) * config.samples
    with env.progress("evaluating trained models", total) as advance:
        for arm, seed, name, condition, messages in jobs:
            model = env.model(name) if isinstance(name, str) else name
            for sample in range(config.samples):
                gen = GenerateConfig(max_new_tokens=config.max_tokens, temperature=config.temperature, seed=sample)
                replies = [g.text for g in model.generate(messages, gen, progress=advance)]
                projected = reply_projections(model, messages, replies, specs)
                for i, (q, m, text) in enumerate(zip(questions, messages, replies)):
                    rows.append({
                        "arm": arm, "seed": seed, "condition": condition, "prompt_id": f"q{i:03d}", "sample": sample,
                        "messages": m, "answer": text,
                        "scores": {s: float(fn(q, text)) for s, fn in scorers.items()},
                        "projections": {spec: values[i] for spec, values in projected.items()},
                    })
    return rows


def reply_projections(model, messages: Sequence[list[dict]], replies: Sequence[str], specs: Mapping[str, str]) -> dict[str, list[float | None]]:
    """label -> per reply, the mean over the reply's tokens of layer L's output on the
    unit vector (`PersonaVector.project`), for `specs` {label: VECTOR@LAYER with a
    real path}; None for an empty reply."""
    if not specs:
        return {}
    from personascope.vectors import parse_projection

    parsed = {label: parse_projection(spec, model.n_layers(), model.hidden_size())[1:] for label, spec in specs.items()}
    keep = [i for i, r in enumerate(replies) if r.strip()]
    out: dict[str, list[float | None]] = {label: [None] * len(replies) for label in specs}
    if not keep:
        return out
    layers = sorted({layer for _, layer in parsed.values()})
    acts = model.capture([messages[i] for i in keep], [replies[i] for i in keep], layers=layers)["response_mean"]
    for label, (vector, layer) in parsed.items():
        values = vector.project(acts[:, layers.index(layer)], layer).tolist()
        for i, value in zip(keep, values):
            out[label][i] = float(value)
    return out


# -- statistics ---------------------------------------------------------------------


def _matrix(rows: Sequence[dict], scorer: str, prompts: list[str], *, group: str = "scores", rate: bool = True):
    """[seeds, prompts] share of replies at >= THRESHOLD (`rate`), else the mean
    value, of `row[group][scorer]` (NaN where a cell has no value), and the count."""
    import numpy as np

    seeds = sorted({r["seed"] for r in rows}, key=str)
    col = {p: j for j, p in enumerate(prompts)}
    hits = np.zeros((len(seeds), len(prompts)))
    counts = np.zeros((len(seeds), len(prompts)))
    srow = {s: i for i, s in enumerate(seeds)}
    for r in rows:
        value = (r.get(group) or {}).get(scorer)
        if value is None or not math.isfinite(value):
            continue
        i, j = srow[r["seed"]], col[r["prompt_id"]]
        hits[i, j] += (value >= THRESHOLD) if rate else value
        counts[i, j] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return hits / counts, int(counts.sum())


def bootstrap_rates(matrices: Mapping[Any, Any], n_prompts: int, *, n_boot: int, seed: int) -> dict[Any, Any]:
    """`n_boot` bootstrap draws of each matrix's mean rate: a cluster bootstrap that
    resamples training seeds (rows) with replacement, then prompts (columns) with
    replacement. Every matrix gets the same prompt draws, and the same seed draws
    as any other with as many seeds, so differences between them are paired."""
    import numpy as np

    rng = np.random.default_rng(seed)
    max_seeds = max((m.shape[0] for m in matrices.values()), default=1)
    seed_u = rng.random((n_boot, max_seeds))
    prompt_idx = rng.integers(0, n_prompts, size=(n_boot, n_prompts))
    out = {}
    for key, m in matrices.items():
        s = m.shape[0]
        seed_idx = np.minimum((seed_u[:, :s] * s).astype(int), s - 1)
        # m[seed_idx][b, :, prompt_idx[b]] for every draw b at once
        picked = m[seed_idx[:, :, None], prompt_idx[:, None, :]]
        with warnings.catch_warnings():  # a draw of only empty cells is NaN, and is left out of the CI
            warnings.simplefilter("ignore", RuntimeWarning)
            out[key] = np.nanmean(picked.reshape(n_boot, -1), axis=1) if picked.size else np.full(n_boot, np.nan)
    return out


def _ci(draws) -> tuple[float | None, float | None]:
    import numpy as np

    draws = draws[np.isfinite(draws)]
    if not draws.size:
        return None, None
    low, high = np.percentile(draws, [2.5, 97.5])
    return float(low), float(high)


def _num(value) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def summarize(rows: Sequence[dict], *, reference: str = "plain", condition: str = "none", n_boot: int = 2000, seed: int = 0) -> dict:
    """Rates per arm x condition x scorer, effects (reference minus arm) and retention
    (arm / reference) on `condition`; mean scores and projections per arm x condition,
    their reference-minus-arm differences (`mean_effects`), and with a `base` arm each
    arm's shift from it on `condition`. Each with a 95%
    percentile bootstrap CI (paired: every cell sees the same prompt draws)."""
    import numpy as np

    if not rows:
        raise PersonascopeError("summarize: no evaluation rows: evaluate the models first")
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    conditions = list(dict.fromkeys(r["condition"] for r in rows))
    scorers = list(dict.fromkeys(s for r in rows for s in r["scores"]))
    measures = [("scores", s) for s in scorers] + [("projections", p) for p in dict.fromkeys(p for r in rows for p in r.get("projections") or {})]
    prompts = sorted({r["prompt_id"] for r in rows})
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["arm"], r["condition"]), []).append(r)
    matrices, counts = {}, {}
    for (arm, cond), group in groups.items():
        for scorer in scorers:
            matrices[("rate", arm, cond, scorer)], counts[("rate", arm, cond, scorer)] = _matrix(group, scorer, prompts)
        for kind, name in measures:
            key = ("mean", arm, cond, name)
            matrices[key], counts[key] = _matrix(group, name, prompts, group=kind, rate=False)
    draws = bootstrap_rates(matrices, len(prompts), n_boot=n_boot, seed=seed)
    value = {k: float(np.nanmean(m)) if np.isfinite(m).any() else math.nan for k, m in matrices.items()}

    def cell(k, **fields) -> dict:
        low, high = _ci(draws[k])
        return {**fields, "value": _num(value[k]), "ci_low": low, "ci_high": high, "n": counts[k]}

    def difference(a, b, **fields) -> dict:
        low, high = _ci(draws[a] - draws[b])
        return {**fields, "value": _num(value[a] - value[b]), "ci_low": low, "ci_high": high}

    rates, means = [], []
    for arm in arms:
        for cond in conditions:
            rates += [cell(("rate", arm, cond, s), arm=arm, condition=cond, scorer=s) for s in scorers if ("rate", arm, cond, s) in matrices]
            means += [cell(("mean", arm, cond, m), arm=arm, condition=cond, measure=m, kind=kind) for kind, m in measures
                      if ("mean", arm, cond, m) in matrices and counts[("mean", arm, cond, m)]]
    effects, retention, shifts, mean_effects = [], [], [], []
    for arm in arms:
        if arm in (reference, BASE):
            continue
        for kind, m in measures:
            ref, k = ("mean", reference, condition, m), ("mean", arm, condition, m)
            if ref in matrices and k in matrices and counts[ref] and counts[k]:
                mean_effects.append(difference(ref, k, arm=arm, measure=m, kind=kind, condition=condition))
        for scorer in scorers:
            ref, k = ("rate", reference, condition, scorer), ("rate", arm, condition, scorer)
            if ref not in matrices or k not in matrices:
                continue
            effects.append(difference(ref, k, arm=arm, scorer=scorer, condition=condition))
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(draws[ref] > 0, draws[k] / np.where(draws[ref] > 0, draws[ref], 1), np.nan)
            low, high = _ci(ratio)
            kept = value[k] / value[ref] if value[ref] > 0 else math.nan
            retention.append({"arm": arm, "scorer": scorer, "condition": condition, "value": _num(kept), "ci_low": low, "ci_high": high})
    for arm in arms:
        for kind, m in measures:
            ref, k = ("mean", BASE, condition, m), ("mean", arm, condition, m)
            if arm != BASE and ref in matrices and k in matrices and counts[ref] and counts[k]:
                shifts.append(difference(k, ref, arm=arm, measure=m, kind=kind, condition=condition))
    return {"reference": reference, "condition": condition, "threshold": THRESHOLD, "n_boot": n_boot, "rates": rates,
            "effects": effects, "retention": retention, "means": means, "shifts": shifts, "mean_effects": mean_effects}
