"""From samples to a persona vector: judge, filter, capture, difference of means, quality.

Both ways in (responses generated here, or read from files) end in `build`.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from personascope.engine._types import GenerateConfig
from personascope.errors import PersonascopeError
from personascope.vectors._capture import POOLINGS, capture_samples
from personascope.vectors._config import ExtractConfig
from personascope.vectors._filter import apply_filter, decide, judge_samples, sanity
from personascope.vectors._quality import LAYER_CHOICE, choose_layer, eval_samples, layer_quality, projections
from personascope.vectors._samples import ExtractResult, Sample
from personascope.vectors._vector import PersonaVector

Steps = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]
"""`steps(description, total)` opens a progress bar and yields `advance(n)` (like `StepContext.progress`)."""

METHOD = "persona vector: mean activation of kept positive responses minus kept negative ones (persona_vectors method)"
LAYER_CONVENTION = "row i = output of decoder block i (hidden_states[i + 1])"


@contextmanager
def no_steps(description: str, total: int) -> Iterator[Callable[[int], None]]:
    yield lambda n: None


class Timer:
    """Seconds per phase, for the metadata."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] = round(self.seconds.get(phase, 0.0) + time.perf_counter() - t0, 3)


def generate_into(model, samples: list[Sample], config: ExtractConfig, steps: Steps, label: str) -> None:
    """Fill each sample's response, one cached generate call per sample index (its seed)."""
    by_k: dict[int, list[Sample]] = {}
    for s in samples:
        by_k.setdefault(s.sample, []).append(s)
    with steps(label, len(samples)) as advance:
        for k, group in sorted(by_k.items()):
            gen = GenerateConfig(
                max_new_tokens=config.max_tokens, temperature=config.temperature, batch_size=config.batch_size,
                seed=config.seed + k if config.temperature > 0 else None,
            )
            outs = model.generate([s.messages() for s in group], gen, progress=advance)
            for s, g in zip(group, outs, strict=True):
                s.response, s.finish_reason = g.text, g.finish_reason


def build(spec, model, samples: list[Sample], config: ExtractConfig, *, judge_model, cache, steps: Steps, timer: Timer, source: dict) -> ExtractResult:
    """Judge, filter, capture and measure `samples` (the extraction split) into a result."""
    import torch

    judge_info: dict[str, Any] = {"enabled": config.judge, "model": None}
    if config.judge:
        judge = model if judge_model is None else judge_model
        judge_info.update(model=judge.name, weights_hash=judge.fingerprint().get("weights"))
        with timer("judge"):
            judge_samples(spec, samples, judge, cache, steps)
    judge_info["thresholds"] = {"pos_min": config.pos_min, "neg_max": config.neg_max, "coherence_min": config.coherence_min}
    check = sanity(samples, config, spec.name)
    decision = decide(config, check)
    counts = apply_filter(samples, config, decision["applied"])

    kept = [s for s in samples if s.kept]
    with timer("capture"), steps("capture: extraction", len(kept)) as advance:
        acts = capture_samples(model, kept, poolings=POOLINGS, progress=advance)
    is_pos = torch.tensor([s.side == "positive" for s in kept])
    # nanmean: an empty response has no response tokens (a NaN row), not a zero activation.
    vectors = {p: a[is_pos].nanmean(0) - a[~is_pos].nanmean(0) for p, a in acts.items()}
    if torch.isnan(vectors["response_mean"]).all():
        raise PersonascopeError(
            "every kept response on one side is empty, so there is no response activation to average: "
            "check the generations in the samples, or raise --max-tokens"
        )

    held_out = eval_samples(spec, config)
    with timer("quality"):
        generate_into(model, held_out, config, steps, "generate: held-out eval")
        with steps("capture: held-out eval", 2 * len(held_out)) as advance:
            ev = capture_samples(model, held_out, poolings=["response_mean"], progress=advance)["response_mean"]
            text = capture_samples(model, held_out, poolings=["response_mean"], system=False, progress=advance)["response_mean"]
    ev_pos = torch.tensor([s.side == "positive" for s in held_out])
    vector = vectors["response_mean"]
    layers = layer_quality(vector, ev[ev_pos], ev[~ev_pos])
    layers_text = layer_quality(vector, text[ev_pos], text[~ev_pos])
    chosen = choose_layer(layers_text if config.select_layer_by == "text_only" else layers)
    for group, a in ((kept, acts["response_mean"]), (held_out, text if config.select_layer_by == "text_only" else ev)):
        for s, x in zip(group, projections(vector, a)[:, chosen].tolist()):
            s.projection = x

    counts.update(
        instruction_pairs=len({s.pair for s in samples if s.pair is not None}) or None,
        questions=len({s.question for s in samples}), samples_per_question=config.samples,
        eval_questions=len(held_out) // 2,
    )
    meta = {
        "name": spec.name, "trait": spec.name, "trait_description": spec.description, "trait_digest": spec.digest(),
        "model": model.name, "weights_hash": model.fingerprint().get("weights"), "method": METHOD,
        "pooling": "response_mean", "poolings": list(POOLINGS), "layer_convention": LAYER_CONVENTION,
        "source": source, "config": config.model_dump(mode="json"), "judge": judge_info, "sanity_check": check,
        "filter": decision, "counts": counts, "layers": layers, "chosen_layer": chosen,
        "layer_selected_by": config.select_layer_by,
        "layer_choice": f"{LAYER_CHOICE}, read {'from the response text alone' if config.select_layer_by == 'text_only' else 'with the system prompt in context'}",
        "quality": {
            "split": "eval", "positive": int(ev_pos.sum()), "negative": int((~ev_pos).sum()),
            "context": "each response read after its own system prompt and question, as during extraction",
            "context_text_only": "each response read after its question alone, without the system prompt",
            "headline": config.select_layer_by,
        },
        "layers_text_only": layers_text,
        "timings": timer.seconds,
    }
    result = ExtractResult(PersonaVector(vector, meta), vectors, [*samples, *held_out])
    return result
