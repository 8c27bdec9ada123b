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
    `{arm, seed, condition, prompt_id, sample, messages, answer, scores}`."""
    from personascope.engine import GenerateConfig
    from personascope.judges import get_scorer

    arm_contexts = arm_contexts or {}
    questions = resolve_prompts(config.prompts, config.n, "evaluate.prompts")
    scorers = {name: get_scorer(name) for name in config.scorers}
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
            model = env.model(name)
            for sample in range(config.samples):
                gen = GenerateConfig(max_new_tokens=config.max_tokens, temperature=config.temperature, seed=sample)
                replies = model.generate(messages, gen, progress=advance)
                for i, (q, m, g) in enumerate(zip(questions, messages, replies)):
                    rows.append({
                        "arm": arm, "seed": seed, "condition": condition, "prompt_id": f"q{i:03d}", "sample": sample,
                        "messages": m, "answer": g.text,
                        "scores": {s: float(fn(q, g.text)) for s, fn in scorers.items()},
                    })
    return rows


# -- statistics ---------------------------------------------------------------------


def _matrix(rows: Sequence[dict], scorer: str, prompts: list[str]):
    """[seeds, prompts] share of replies at >= THRESHOLD (NaN where a cell has no reply), and the seeds."""
    import numpy as np

    seeds = sorted({r["seed"] for r in rows}, key=str)
    col = {p: j for j, p in enumerate(prompts)}
    hits = np.zeros((len(seeds), len(prompts)))
    counts = np.zeros((len(seeds), len(prompts)))
    srow = {s: i for i, s in enumerate(seeds)}
    for r in rows:
        value = r["scores"].get(scorer)
        if value is None or not math.isfinite(value):
            continue
        i, j = srow[r["seed"]], col[r["prompt_id"]]
        hits[i, j] += value >= THRESHOLD
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
    (arm / reference) on `condition`, each with a 95% percentile bootstrap CI."""
    import numpy as np

    if not rows:
        raise PersonascopeError("summarize: no evaluation rows: evaluate the models first")
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    conditions = list(dict.fromkeys(r["condition"] for r in rows))
    scorers = list(dict.fromkeys(s for r in rows for s in r["scores"]))
    prompts = sorted({r["prompt_id"] for r in rows})
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["arm"], r["condition"]), []).append(r)
    matrices, counts = {}, {}
    for (arm, cond), group in groups.items():
        for scorer in scorers:
            matrices[(arm, cond, scorer)], counts[(arm, cond, scorer)] = _matrix(group, scorer, prompts)
    draws = bootstrap_rates(matrices, len(prompts), n_boot=n_boot, seed=seed)
    value = {k: float(np.nanmean(m)) if np.isfinite(m).any() else math.nan for k, m in matrices.items()}
    rates = []
    for arm in arms:
        for cond in conditions:
            for scorer in scorers:
                k = (arm, cond, scorer)
                if k in matrices:
                    low, high = _ci(draws[k])
                    rates.append({"arm": arm, "condition": cond, "scorer": scorer, "value": _num(value[k]), "ci_low": low, "ci_high": high, "n": counts[k]})
    effects, retention = [], []
    for arm in arms:
        if arm == reference:
            continue
        for scorer in scorers:
            ref, k = (reference, condition, scorer), (arm, condition, scorer)
            if ref not in matrices or k not in matrices:
                continue
            low, high = _ci(draws[ref] - draws[k])
            effects.append({"arm": arm, "scorer": scorer, "condition": condition, "value": _num(value[ref] - value[k]), "ci_low": low, "ci_high": high})
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(draws[ref] > 0, draws[k] / np.where(draws[ref] > 0, draws[ref], 1), np.nan)
            low, high = _ci(ratio)
            kept = value[k] / value[ref] if value[ref] > 0 else math.nan
            retention.append({"arm": arm, "scorer": scorer, "condition": condition, "value": _num(kept), "ci_low": low, "ci_high": high})
    return {"reference": reference, "condition": condition, "threshold": THRESHOLD, "n_boot": n_boot, "rates": rates, "effects": effects, "retention": retention}
