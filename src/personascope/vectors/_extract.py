"""Persona-vector extraction from a trait spec (the persona-vectors method).

    result = extract_vector("optimistic", "smollm2", config=ExtractConfig(n_questions=8))
    result.save("vectors/optimistic")     # PersonaVector.load("vectors/optimistic")

1. Every instruction pair answers every extraction question on both sides: the
   positive system prompt elicits the trait, the negative one its absence.
2. A judge scores each response for the trait and for coherence (0-100), and a
   sanity check asks whether those scores separate the two sides at all.
3. Matched filtering keeps pairs whose positive shows the trait and whose
   negative does not (policy `auto`: only when the judge passed its check).
4. Each kept response is read again with its own system prompt in context, and
   its activations are pooled at every layer three ways; the vector is mean
   (positive) minus mean (negative), per layer and pooling.
5. Held-out eval questions measure per-layer AUROC and Cohen's d, reading each
   response from its text alone and after its system prompt; the best layer by the
   text alone (or in context, `select_layer_by`) is recorded as `chosen_layer`.

Every model call goes through the call cache: a rerun makes none.
"""

import time
from typing import TYPE_CHECKING

from personascope.errors import PersonascopeError
from personascope.vectors._build import Steps, Timer, build, generate_into, no_steps
from personascope.vectors._config import ExtractConfig
from personascope.vectors._samples import ExtractResult, Sample

if TYPE_CHECKING:
    from personascope.store import Cache
    from personascope.models import Model
    from personascope.traits import TraitSpec


def resolve_trait(trait: "TraitSpec | str") -> "TraitSpec":
    """A spec as given, a built-in trait by name, or a spec file by path."""
    from personascope.traits import load_trait

    return load_trait(trait)


def resolve_model(model: "str | Model", cache: "Cache | None", what: str = "extraction") -> "Model":
    from personascope.models import get_model

    resolved = get_model(model, cache=cache)
    if what == "extraction" and not resolved.white_box:
        raise PersonascopeError(
            f"{resolved.name} is a black-box model: persona vectors need activations, so use smollm2 or hf/<path> "
            "(an API model can still be the judge: --judge-model)"
        )
    return resolved


def extraction_samples(spec: "TraitSpec", config: ExtractConfig) -> list[Sample]:
    """One positive and one negative sample per (pair, question, sample index), responses still empty."""
    pairs = spec.instructions[: config.n_pairs]
    questions = spec.questions.extract[: config.n_questions]
    out = []
    for k in range(config.samples):
        for i, pair in enumerate(pairs):
            for j, question in enumerate(questions):
                for side, system in (("positive", pair.pos), ("negative", pair.neg)):
                    out.append(Sample(side, question, "", system=system or None, unit=f"{i}:{j}:{k}", pair=i, sample=k))
    return out


def extract_vector(
    trait: "TraitSpec | str",
    model: "str | Model",
    *,
    config: ExtractConfig | None = None,
    judge_model: "str | Model | None" = None,
    cache: "Cache | None" = None,
    progress: Steps | None = None,
) -> ExtractResult:
    """Extract a persona vector for `trait` from `model` (see the module docstring).

    `judge_model` defaults to `model` itself; `progress(description, total)` is a
    progress-bar factory such as `StepContext.progress`.
    """
    config = config or ExtractConfig()
    spec = resolve_trait(trait)
    model = resolve_model(model, cache)
    cache = model.cache
    judge = None if judge_model is None else resolve_model(judge_model, cache, what="judge")
    steps = progress or no_steps
    timer = Timer()
    t0 = time.perf_counter()
    samples = extraction_samples(spec, config)
    with timer("generate"):
        generate_into(model, samples, config, steps, "generate: extraction")
    result = build(spec, model, samples, config, judge_model=judge, cache=cache, steps=steps, timer=timer, source={"kind": "generated"})
    timer.seconds["total"] = round(time.perf_counter() - t0, 3)
    return result
