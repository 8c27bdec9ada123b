"""Single forward passes: scoring continuations, next-token logprobs, activation capture."""

from typing import TYPE_CHECKING

import torch

from personascope._progress import track
from personascope.engine._batching import left_pad, length_sorted_batches
from personascope.engine._types import POOLINGS, Activations, Scored

TOKENS = "tokens"
"""The pooling that is none: every token's activation, per sample."""
from personascope.errors import PersonascopeError

if TYPE_CHECKING:
    from personascope.engine._engine import Engine


def _logits(engine: "Engine", ids, mask, positions, keep: int) -> torch.Tensor:
    """Logits of the last `keep` positions only (left padding aligns every row's end),
    which skips most of the vocabulary projection."""
    out = engine.model(input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=keep, use_cache=False)
    return out.logits[:, -keep:]


def _response_mask(lengths: list[int], width: int) -> torch.Tensor:
    mask = torch.zeros(len(lengths), width, dtype=torch.bool)
    for row, n in enumerate(lengths):
        if n:
            mask[row, width - n :] = True
    return mask


def score(engine: "Engine", prompt_ids, cont_ids, batch_size: int) -> list[Scored]:
    seqs = [p + c for p, c in zip(prompt_ids, cont_ids)]
    results: list[Scored | None] = [None] * len(seqs)
    for batch in length_sorted_batches([len(s) for s in seqs], batch_size):
        ids, mask, pos = left_pad([seqs[i] for i in batch], engine.pad_id, engine.device)
        cont_lens = [len(cont_ids[i]) for i in batch]
        keep = max(cont_lens) + 1
        with torch.inference_mode(), engine._response_mask(_response_mask(cont_lens, ids.shape[1])):
            lp = torch.log_softmax(_logits(engine, ids, mask, pos, keep).float(), dim=-1).cpu()
        for row, i in enumerate(batch):
            c = cont_lens[row]
            toks = torch.tensor(cont_ids[i], dtype=torch.long)
            # The token at position s is predicted by the logits at s - 1.
            values = lp[row, keep - c - 1 : keep - 1].gather(1, toks[:, None]).squeeze(1) if c else toks.float()
            results[i] = Scored(
                tokens=engine.tokenizer.convert_ids_to_tokens(cont_ids[i]),
                token_ids=list(cont_ids[i]),
                logprobs=values.tolist(),
            )
    return results  # type: ignore[return-value]


def top_logprobs(engine: "Engine", prompt_ids, k: int, batch_size: int) -> list[list[tuple[str, float]]]:
    results: list = [None] * len(prompt_ids)
    for batch in length_sorted_batches([len(p) for p in prompt_ids], batch_size):
        ids, mask, pos = left_pad([prompt_ids[i] for i in batch], engine.pad_id, engine.device)
        with torch.inference_mode():
            lp = torch.log_softmax(_logits(engine, ids, mask, pos, 1)[:, -1].float(), dim=-1).cpu()
        top = lp.topk(k, dim=-1)
        for row, i in enumerate(batch):
            results[i] = [
                (engine.tokenizer.decode([int(t)]), float(v)) for v, t in zip(top.values[row], top.indices[row])
            ]
    return results


def next_logprobs(engine: "Engine", prompt_ids, token_ids: list[int], batch_size: int) -> list[list[float]]:
    """Log-probability of each of `token_ids` as the next token after each prompt
    (one forward pass for all of them: what reading a multiple choice needs)."""
    results: list = [None] * len(prompt_ids)
    index = torch.tensor(token_ids)
    for batch in length_sorted_batches([len(p) for p in prompt_ids], batch_size):
        ids, mask, pos = left_pad([prompt_ids[i] for i in batch], engine.pad_id, engine.device)
        with torch.inference_mode():
            lp = torch.log_softmax(_logits(engine, ids, mask, pos, 1)[:, -1].float(), dim=-1).cpu()
        for row, i in enumerate(batch):
            results[i] = lp[row, index].tolist()
    return results


class _StopForward(Exception):
    """Raised after the deepest requested layer: the rest of the network is not needed."""


def _pool_weights(poolings, prompt_lens, resp_lens, width) -> dict[str, torch.Tensor]:
    """[B, T] weights whose weighted sum over positions is each pooling (`tokens` has none)."""
    weights = {p: torch.zeros(len(prompt_lens), width) for p in poolings if p != TOKENS}
    for row, (p, r) in enumerate(zip(prompt_lens, resp_lens)):
        start = width - r - p
        if "prompt_mean" in weights:
            weights["prompt_mean"][row, start : start + p] = 1.0 / p
        if "last_prompt" in weights:
            weights["last_prompt"][row, start + p - 1] = 1.0
        if "response_mean" in weights:
            if r:
                weights["response_mean"][row, width - r :] = 1.0 / r
            else:
                weights["response_mean"][row] = float("nan")
    return weights


def capture(engine: "Engine", prompt_ids, response_ids, layers, poolings, batch_size, progress) -> Activations:
    unknown = [p for p in poolings if p not in POOLINGS]
    if unknown:
        raise PersonascopeError(f"unknown pooling {unknown[0]!r}: choose from {', '.join(POOLINGS)}")
    if response_ids is None:
        if "response_mean" in poolings:
            raise PersonascopeError("pooling 'response_mean' needs responses: pass responses, or use prompt_mean/last_prompt")
        response_ids = [[] for _ in prompt_ids]
    layers = list(dict.fromkeys(layers))
    n, width = len(prompt_ids), len(layers)
    per_token = TOKENS in poolings
    poolings = [p for p in poolings if p != TOKENS]
    out: dict = {p: torch.empty(n, width, engine.hidden_size) for p in poolings}
    if per_token:
        out[TOKENS] = [None] * n
    current: dict[str, torch.Tensor] = {}
    pooled: dict[str, torch.Tensor] = {}
    hidden: dict[int, torch.Tensor] = {}
    deepest = max(layers)

    def make_hook(j: int, layer: int):
        def hook(module, args, output):
            h = (output[0] if isinstance(output, tuple) else output).float()
            for p, w in current.items():
                pooled[p][:, j] = torch.einsum("btd,bt->bd", h, w)
            if per_token:
                hidden[j] = h  # only the requested layers of one batch are ever kept
            if layer == deepest:
                raise _StopForward

        return hook

    seqs = [p + r for p, r in zip(prompt_ids, response_ids)]
    handles = [engine.blocks[layer].register_forward_hook(make_hook(j, layer)) for j, layer in enumerate(layers)]
    batches = list(length_sorted_batches([len(s) for s in seqs], batch_size))
    try:
        for batch in track(batches, len(batches), f"capturing activations ({n} samples)", progress):
            ids, mask, pos = left_pad([seqs[i] for i in batch], engine.pad_id, engine.device)
            resp_lens = [len(response_ids[i]) for i in batch]
            weights = _pool_weights(poolings, [len(prompt_ids[i]) for i in batch], resp_lens, ids.shape[1])
            current.clear()
            current.update({p: w.to(engine.device) for p, w in weights.items()})
            pooled.clear()
            # Pooled rows stay on the device until the batch is done: one copy per
            # batch rather than one synchronising copy per layer.
            pooled.update({p: torch.empty(len(batch), width, engine.hidden_size, device=engine.device) for p in poolings})
            hidden.clear()
            with torch.inference_mode(), engine._response_mask(_response_mask(resp_lens, ids.shape[1])):
                try:
                    engine.model.base_model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=False)
                except _StopForward:
                    pass
            index = torch.tensor(batch)
            for p in poolings:
                out[p][index] = pooled[p].cpu()
            if per_token:
                stacked = torch.stack([hidden[j] for j in range(width)], dim=1).cpu()  # [B, layers, T, hidden]
                for row, i in enumerate(batch):
                    # Left padding: a sample's tokens are the last len(seq) positions.
                    out[TOKENS][i] = stacked[row, :, ids.shape[1] - len(seqs[i]) :].clone()
                del stacked
    finally:
        for handle in handles:
            handle.remove()
    return Activations(layers=layers, data=out)
