"""The measurements of one monitor check, on a transformers model in memory.

Replies are rendered and decoded as the engine does (`engine.render`, the engine's
end-of-turn tokens, a frame's stop strings), and a projection follows the engine's
capture convention: layer `i` is decoder block `i`'s output (`hidden_states[i + 1]`),
averaged over the reply's tokens as `encode_text(reply_text(reply))` gives them,
dotted with the unit vector of row `i` (`PersonaVector.project`).

The size of the update is measured without materializing LoRA's `B A`: Frobenius
inner products of low-rank products are traces of rank x rank matrices.
"""

import math
from collections.abc import Sequence
from typing import Any

import torch

from personascope.engine._batching import left_pad
from personascope.engine._chat import render
from personascope.engine._engine import END_OF_TURN


def stop_ids(tokenizer: Any, model: Any) -> list[int]:
    """The engine's end-of-turn ids: the EOS tokens and the known end-of-turn markers."""
    ids: set[int] = set()
    for source in (tokenizer.eos_token_id, getattr(getattr(model, "generation_config", None), "eos_token_id", None)):
        if isinstance(source, int):
            ids.add(source)
        elif source:
            ids.update(source)
    vocab = tokenizer.get_vocab()
    ids.update(vocab[t] for t in END_OF_TURN if t in vocab)
    return sorted(ids)


def _device(model: Any) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def greedy_replies(model, tokenizer, questions: Sequence[str], *, frame=None, max_tokens: int = 32, batch_size: int = 16) -> tuple[list[list[int]], list[str]]:
    """(prompt ids, reply text) per question: batched greedy generation, left padded."""
    texts = [render(tokenizer, [{"role": "user", "content": q}], True, frame) for q in questions]
    prompt_ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    stops = stop_ids(tokenizer, model)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stops[0]
    replies: list[str] = []
    for start in range(0, len(prompt_ids), batch_size):
        batch = prompt_ids[start : start + batch_size]
        ids, mask, _ = left_pad(batch, pad, _device(model))
        out = model.generate(
            input_ids=ids, attention_mask=mask, max_new_tokens=max_tokens, do_sample=False,
            eos_token_id=stops, pad_token_id=pad, temperature=None, top_p=None, top_k=None,
        )
        for row in out[:, ids.shape[1] :].tolist():
            cut = next((j for j, t in enumerate(row) if t in stops), len(row))
            text = tokenizer.decode(row[:cut], skip_special_tokens=True)
            for s in (frame.stop if frame is not None else ()):
                if s in text:
                    text = text[: text.index(s)]
            replies.append(text)
    return prompt_ids, replies


@torch.no_grad()
def reply_projections(model, tokenizer, prompt_ids, replies, units: dict[str, tuple[int, torch.Tensor]], *, frame=None, batch_size: int = 16) -> dict[str, float]:
    """Mean over replies of the mean over each reply's tokens of layer L's output on a unit vector."""
    if not units:
        return {}
    # As the engine's capture: a reply after a frame's `Assistant:` gets its space back.
    texts = [(" " + r if frame is not None and r and not r[0].isspace() else r) for r in replies]
    reply_ids = tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    sums = {name: [] for name in units}
    for start in range(0, len(prompt_ids), batch_size):
        idx = [i for i in range(start, min(start + batch_size, len(prompt_ids))) if reply_ids[i]]
        if not idx:
            continue
        ids, mask, pos = left_pad([prompt_ids[i] + reply_ids[i] for i in idx], pad, _device(model))
        hidden = model(input_ids=ids, attention_mask=mask, position_ids=pos, output_hidden_states=True).hidden_states
        width = ids.shape[1]
        for name, (layer, unit) in units.items():
            h = hidden[layer + 1].float()
            for row, i in enumerate(idx):
                r = len(reply_ids[i])
                sums[name].append(float(h[row, width - r :].mean(0) @ unit.to(h.device)))
    return {name: (sum(v) / len(v) if v else math.nan) for name, v in sums.items()}


def unit_vectors(specs: Sequence[str], n_layers: int, hidden_size: int) -> dict[str, tuple[int, torch.Tensor]]:
    """spec -> (layer, unit row) for `VECTOR@LAYER` specs (loaded and checked by the vectors package)."""
    from personascope.vectors import parse_projection

    out = {}
    for spec in specs:
        label, vector, layer = parse_projection(spec, n_layers, hidden_size)
        row = vector[layer].float()
        out[label] = (layer, row / row.norm())
    return out


# -- the size and direction of the update ----------------------------------------


def lora_factors(model) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """module name -> (B', A) with the update `B' @ A` (scaling folded into B'; several adapters stacked)."""
    out = {}
    for name, module in model.named_modules():
        lora_a, lora_b = getattr(module, "lora_A", None), getattr(module, "lora_B", None)
        if not lora_a or not lora_b or not hasattr(module, "scaling"):
            continue
        bs, as_ = [], []
        for key in lora_a:
            if key in lora_b and hasattr(lora_a[key], "weight"):
                a, b = lora_a[key].weight.detach().float(), lora_b[key].weight.detach().float()
                if a.dim() != 2 or b.dim() != 2:
                    continue  # convolutional adapters: not measured
                bs.append(b * float(module.scaling[key]))
                as_.append(a)
        if bs:
            out[name] = (torch.cat(bs, dim=1).cpu().double(), torch.cat(as_, dim=0).cpu().double())  # double: the increments' inner products subtract
    return out


def _lora_dot(u: dict, v: dict) -> float:
    """<U, V>_F summed over modules, with U = B_u A_u: trace((B_u^T B_v)(A_v A_u^T))."""
    total = 0.0
    for name, (bu, au) in u.items():
        if name in v:
            bv, av = v[name]
            total += float(torch.trace((bu.T @ bv) @ (av @ au.T)))
    return total


class UpdateTracker:
    """The update since training began (its norm) and the cosine between successive increments.

    LoRA: the update is `sum over modules of scaling * B @ A` (zero at the start, since
    PEFT initialises B to 0); full finetuning: the parameters minus their values at the
    first snapshot (kept on the CPU with the last two: three extra copies of the weights).
    """

    def __init__(self, model) -> None:
        self.lora = bool(lora_factors(model))
        self.initial = None if self.lora else self._params(model)
        self.history: list[Any] = []  # the last two snapshots

    @staticmethod
    def _params(model) -> dict[str, torch.Tensor]:
        return {n: p.detach().float().cpu().clone() for n, p in model.named_parameters() if p.requires_grad}

    def _dot(self, u, v) -> float:
        if self.lora:
            return _lora_dot(u, v)
        return float(sum((u[n] * v[n]).sum() for n in u))

    def check(self, model) -> tuple[float, float | None]:
        """(norm of the update so far, cosine of this increment with the one before, if there was one)."""
        if self.lora:
            snap = lora_factors(model)
            norm = sum(math.sqrt(max(_lora_dot({k: f}, {k: f}), 0.0)) for k, f in snap.items())
        else:
            params = self._params(model)
            snap = {n: params[n] - self.initial[n] for n in params}
            norm = math.sqrt(sum(float((d * d).sum()) for d in snap.values()))
        cosine = None
        if len(self.history) == 2:
            s0, s1 = self.history  # increments d1 = s1 - s0 and d2 = snap - s1
            d = self._dot
            inner = d(s1, snap) - d(s1, s1) - d(s0, snap) + d(s0, s1)
            n1 = d(s1, s1) - 2 * d(s0, s1) + d(s0, s0)
            n2 = d(snap, snap) - 2 * d(s1, snap) + d(s1, s1)
            if n1 > 0 and n2 > 0:
                cosine = max(-1.0, min(1.0, inner / math.sqrt(n1 * n2)))
        self.history = [*self.history[-1:], snap]
        return norm, cosine
