"""Held-out quality: how well each layer's vector separates new responses.

The trait's eval questions (never used to build the vector) are answered under a
positive and a negative system prompt (question k uses instruction pair k mod
n_pairs). Each response's mean activation is projected on the layer's vector,
and AUROC and Cohen's d of positive against negative projections say how well
that layer separates them. Each response is read twice: as text alone (the
user's question and the response, no system prompt), and after its own
trait-eliciting system prompt. Only the first is what a monitor of a finetuned or
deployed model sees; in the second part of the separation is the prompt itself,
so it reads higher. The text-only figures pick the layer and head the report
unless the config asks for `select_layer_by: in_context`.

Choosing the layer: the highest AUROC; among equal AUROCs (they often saturate at
1.0) the largest Cohen's d; on an exact tie of both, the layer nearest the middle
of the network, where persona directions are usually cleanest and steering
disturbs fluency least.
"""

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from personascope.stats import auroc, cohens_d
from personascope.vectors._samples import Sample

if TYPE_CHECKING:
    import torch

    from personascope.vectors._config import ExtractConfig

SelectLayerBy = Literal["text_only", "in_context"]

LAYER_CHOICE = "max held-out AUROC; ties by Cohen's d, then the layer nearest the middle"

QUALITY_KEYS: dict[str, str] = {"text_only": "layers_text_only", "in_context": "layers"}
"""Which meta.json field holds each reading's per-layer table."""


def selected_by(meta: dict) -> str:
    """Which reading chose the layer; a vector written before schema 2 was chosen in context."""
    value = meta.get("layer_selected_by")
    return value if value in QUALITY_KEYS else "in_context"


def headline_layers(meta: dict) -> list[dict]:
    """The per-layer table that chose the layer (`[{layer, auroc, cohens_d}]`; empty if none)."""
    return list(meta.get(QUALITY_KEYS[selected_by(meta)]) or [])


def chosen_row(meta: dict, key: str | None = None) -> dict:
    """The chosen layer's row of `key`'s table (default: the one that chose it), or `{}`."""
    rows = meta.get(QUALITY_KEYS[key]) if key else headline_layers(meta)
    chosen = meta.get("chosen_layer")
    return next((r for r in rows or [] if r.get("layer") == chosen), {})


def eval_samples(spec, config: "ExtractConfig") -> list[Sample]:
    """Positive and negative samples (responses still empty) on the held-out questions."""
    pairs = spec.instructions[: config.n_pairs]
    out = []
    for k, question in enumerate(spec.questions.eval[: config.eval_questions]):
        pair = k % len(pairs)
        for side, system in (("positive", pairs[pair].pos), ("negative", pairs[pair].neg)):
            out.append(Sample(side, question, "", system=system or None, split="eval", unit=f"eval:{k}", pair=pair))
    return out


def projections(vector: "torch.Tensor", acts: "torch.Tensor") -> "torch.Tensor":
    """`[n, n_layers]` projections of `[n, n_layers, hidden]` activations on each layer's unit vector."""
    import torch

    norms = vector.norm(dim=-1, keepdim=True)
    unit = torch.where(norms > 0, vector / norms.clamp_min(1e-30), torch.full_like(vector, math.nan))
    return torch.einsum("nlh,lh->nl", acts.float(), unit)


def layer_quality(vector: "torch.Tensor", pos: "torch.Tensor", neg: "torch.Tensor") -> list[dict]:
    """`[{layer, auroc, cohens_d}]` of positive against negative projections per layer."""
    p, n = projections(vector, pos), projections(vector, neg)
    rows = []
    for layer in range(vector.shape[0]):
        a = [x for x in p[:, layer].tolist() if math.isfinite(x)]
        b = [x for x in n[:, layer].tolist() if math.isfinite(x)]
        rows.append({"layer": layer, "auroc": _clean(auroc(a, b)), "cohens_d": _clean(cohens_d(a, b))})
    return rows


def choose_layer(layers: Sequence[dict]) -> int:
    """The layer to use (see the module docstring for the rule)."""
    middle = (len(layers) - 1) / 2

    def key(row: dict) -> tuple[float, float, float]:
        value = lambda x: x if isinstance(x, (int, float)) and math.isfinite(x) else -math.inf  # noqa: E731
        return value(row["auroc"]), value(row["cohens_d"]), -abs(row["layer"] - middle)

    return int(max(layers, key=key)["layer"])


def _clean(value: float) -> float | None:
    """NaN (too few samples, zero variance) as None, so meta.json stays valid JSON."""
    return value if isinstance(value, float) and math.isfinite(value) else None
