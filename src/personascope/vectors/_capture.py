"""Pooled activations of samples, each with its own system prompt in context.

Samples are sent through the cached model in one call, so positives and
negatives share length-sorted batches. Samples imported with a chat-formatted
prompt (persona_vectors' `prompt` column) are captured on that text verbatim,
through a cache entry of their own.
"""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from personascope.vectors._samples import Sample

if TYPE_CHECKING:
    import torch

    from personascope.models import Model

POOLINGS = ("response_mean", "prompt_mean", "last_prompt")


def capture_samples(
    model: "Model",
    samples: Sequence[Sample],
    *,
    poolings: Sequence[str] = POOLINGS,
    system: bool = True,
    progress: Callable[[int], None] | None = None,
) -> "dict[str, torch.Tensor]":
    """`{pooling: [n_samples, n_layers, hidden]}` at every layer, rows in sample order.

    `system=False` reads each response after its question alone: what the text
    carries without the instruction that produced it.
    """
    import torch

    n_layers = model.n_layers()
    raw = [i for i, s in enumerate(samples) if system and s.prompt_text is not None]
    chat = [i for i, s in enumerate(samples) if not (system and s.prompt_text is not None)]
    parts = []
    if chat:
        acts = model.capture(
            [samples[i].messages(system=system) for i in chat], [samples[i].response for i in chat],
            poolings=list(poolings), progress=progress,
        )
        parts.append((chat, acts.data))
    if raw:
        acts = _capture_text(
            model, [samples[i].prompt_text for i in raw], [samples[i].response for i in raw], poolings, progress
        )
        parts.append((raw, acts))
    out = {}
    for p in poolings:
        hidden = next((data[p].shape[-1] for _, data in parts), 0)
        out[p] = torch.empty(len(samples), n_layers, hidden)
        for idx, data in parts:
            out[p][torch.tensor(idx, dtype=torch.long)] = data[p]
    return out


def _capture_text(model: "Model", texts, responses, poolings, progress) -> "dict[str, torch.Tensor]":
    """Capture on already chat-formatted prompt text (no template applied again)."""
    import torch
    from safetensors.torch import load as load_tensors
    from safetensors.torch import save as save_tensors

    from personascope.engine import _forward
    from personascope.store import cache_key

    layers = list(range(model.n_layers()))
    keys = [
        cache_key(op="capture_text", model=model.fingerprint(), text=t, response=r, layers=layers, poolings=sorted(poolings))
        for t, r in zip(texts, responses, strict=True)
    ]

    def compute(idx: list[int]) -> list[bytes]:
        engine = model.engine
        acts = _forward.capture(
            engine, engine.encode_text([texts[i] for i in idx]), engine.encode_text([responses[i] for i in idx]),
            layers, list(poolings), engine.forward_batch_size, False,
        )
        return [save_tensors({p: acts[p][j].contiguous() for p in poolings}) for j in range(len(idx))]

    rows = [load_tensors(b) for b in model._cached("capture_text", keys, compute, model._chunk(8), progress)]
    return {p: torch.stack([row[p] for row in rows]) for p in poolings}
