"""Batched generation through `model.generate` (left padding, KV cache, length-sorted batches)."""

from typing import TYPE_CHECKING

import torch

from personascope._progress import track
from personascope.engine._batching import left_pad, length_sorted_batches
from personascope.engine._types import GenerateConfig, Generation

if TYPE_CHECKING:
    from personascope.engine._engine import Engine


def _generation_config(engine: "Engine", config: GenerateConfig):
    from transformers import GenerationConfig

    sampling = config.temperature > 0
    kwargs = {"temperature": config.temperature, "top_p": config.top_p, "top_k": 0} if sampling else {}
    return GenerationConfig(
        max_new_tokens=config.max_new_tokens,
        do_sample=sampling,
        eos_token_id=engine.stop_ids,
        pad_token_id=engine.pad_id,
        return_dict_in_generate=True,
        output_logits=config.logprobs or config.top_logprobs > 0,
        **kwargs,
    )


def generate(engine: "Engine", prompt_ids: list[list[int]], config: GenerateConfig, progress: bool) -> list[Generation]:
    gen_config = _generation_config(engine, config)
    extra = {"stop_strings": config.stop, "tokenizer": engine.tokenizer} if config.stop else {}
    if config.seed is not None:
        torch.manual_seed(config.seed)
    results: list[Generation | None] = [None] * len(prompt_ids)
    batches = list(length_sorted_batches([len(p) for p in prompt_ids], config.batch_size))
    for batch in track(batches, len(batches), f"generating ({len(prompt_ids)} prompts)", progress):
        ids, mask, _ = left_pad([prompt_ids[i] for i in batch], engine.pad_id, engine.device)
        with torch.inference_mode():
            out = engine.model.generate(input_ids=ids, attention_mask=mask, generation_config=gen_config, **extra)
        new = out.sequences[:, ids.shape[1] :].cpu()
        steps = _logprob_steps(out.logits, new, config.top_logprobs) if out.logits is not None else None
        for row, i in enumerate(batch):
            results[i] = _one(engine, new[row].tolist(), len(prompt_ids[i]), config, steps, row)
    return results  # type: ignore[return-value]


def _logprob_steps(logits, new: torch.Tensor, k: int):
    """Per step: chosen-token logprobs [B] and top-k (values, ids) under the raw logits."""
    chosen, tops = [], []
    for t, step in enumerate(logits):
        lp = torch.log_softmax(step.float().cpu(), dim=-1)
        chosen.append(lp.gather(1, new[:, t : t + 1]).squeeze(1))
        tops.append(lp.topk(k, dim=-1) if k else None)
    return chosen, tops


def _one(engine: "Engine", tokens: list[int], prompt_len: int, config: GenerateConfig, steps, row: int) -> Generation:
    stop_ids = set(engine.stop_ids)
    cut = next((j for j, t in enumerate(tokens) if t in stop_ids), None)
    finish = "length" if cut is None else "stop"
    tokens = tokens if cut is None else tokens[:cut]
    decode = engine.tokenizer.decode
    text = decode(tokens, skip_special_tokens=True)
    hits = [text.find(s) for s in config.stop if s in text]
    if hits:
        # Keep only the tokens whose text lies before the stop string.
        end = min(hits)
        text, finish = text[:end], "stop"
        while tokens and len(decode(tokens, skip_special_tokens=True)) > end:
            tokens = tokens[:-1]
    gen = Generation(text=text, token_ids=tokens, finish_reason=finish, prompt_tokens=prompt_len)
    if steps is not None:
        chosen, tops = steps
        n = len(tokens)
        if config.logprobs:
            gen.logprobs = [float(chosen[t][row]) for t in range(n)]
        if config.top_logprobs:
            gen.top_logprobs = [
                [(decode([int(i)]), float(v)) for v, i in zip(tops[t].values[row], tops[t].indices[row])]
                for t in range(n)
            ]
    return gen
