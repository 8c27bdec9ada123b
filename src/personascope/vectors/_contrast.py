"""The simplest persona vector: mean response activation under a positive system
prompt minus that under a negative one, per layer.

This is the core of the persona-vectors method without the judge filtering that
full extraction adds; the demo builds one on the fly with it.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from personascope.vectors._vector import PersonaVector

if TYPE_CHECKING:
    from personascope.engine import Engine, Generation


def contrast_vector(
    engine: "Engine",
    questions: Sequence[str],
    positive_system: str,
    negative_system: str,
    *,
    max_new_tokens: int = 48,
    batch_size: int = 16,
    name: str = "contrast",
    progress: bool = False,
) -> tuple[PersonaVector, list["Generation"], list["Generation"]]:
    """Generate under both system prompts, capture each response's mean activation
    at every layer (with its own system prompt in context), and return
    mean(positive) - mean(negative) together with the generations."""
    questions = list(questions)
    common = dict(max_new_tokens=max_new_tokens, batch_size=batch_size, progress=progress)
    pos = engine.generate(questions, system=positive_system, **common)
    neg = engine.generate(questions, system=negative_system, **common)
    capture = dict(poolings=("response_mean",), progress=progress)
    pos_acts = engine.capture(questions, [g.text for g in pos], system=positive_system, **capture)["response_mean"]
    neg_acts = engine.capture(questions, [g.text for g in neg], system=negative_system, **capture)["response_mean"]
    diff = pos_acts.nanmean(0) - neg_acts.nanmean(0)
    meta = {
        "name": name,
        "model": engine.name,
        "weights_hash": engine.weights_hash,
        "method": "contrast (mean response activation, positive minus negative system prompt)",
        "pooling": "response_mean",
        "layer_convention": "row i = output of decoder block i (hidden_states[i + 1])",
        "positive_system": positive_system,
        "negative_system": negative_system,
        "n_questions": len(questions),
    }
    return PersonaVector(diff, meta), pos, neg


def project_responses(
    engine: "Engine",
    prompts: Sequence,
    responses: Sequence[str],
    vector: PersonaVector,
    layer: int,
    *,
    system: str | None = None,
) -> list[float]:
    """Each response's mean activation at `layer`, projected on unit(vector[layer]).

    Interventions installed on the engine stay active during this pass, so call it
    outside an `intervene` block to measure what the *text* carries.
    """
    acts = engine.capture(prompts, responses, layers=[layer], system=system)
    return vector.project(acts["response_mean"][:, 0], layer).tolist()

