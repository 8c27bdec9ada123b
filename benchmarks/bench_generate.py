"""Batched generation vs the obvious loop of `model.generate`, one prompt at a time.

Both sides: the same 32 chat prompts, chat template applied, greedy decoding,
at most 48 new tokens, stopping at the end-of-turn token.
"""

import torch

from _common import PROMPTS, engine, interleaved, note, report

N_PROMPTS = 32
MAX_NEW_TOKENS = 48
BATCH_SIZE = 32
REPEATS = 2


def sequential(e, prompts: list[str]) -> list[list[int]]:
    """What a researcher writes first: one `model.generate` call per prompt."""
    tok, stops = e.tokenizer, set(e.stop_ids)
    outputs = []
    for prompt in prompts:
        text = tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True)
        inputs = tok(text, return_tensors="pt", add_special_tokens=False)
        with torch.inference_mode():
            out = e.model.generate(
                **inputs,
                max_new_tokens=MAX_NEW_TOKENS,
                do_sample=False,
                eos_token_id=e.stop_ids,
                pad_token_id=e.pad_id,
            )
        new = out[0, inputs["input_ids"].shape[1] :].tolist()
        cut = next((j for j, t in enumerate(new) if t in stops), len(new))
        outputs.append(new[:cut])
    return outputs


def batched(e, prompts: list[str]) -> list[list[int]]:
    gens = e.generate(prompts, max_new_tokens=MAX_NEW_TOKENS, batch_size=BATCH_SIZE)
    return [g.token_ids for g in gens]


def run(e=None) -> str:
    e = e or engine()
    prompts = PROMPTS[:N_PROMPTS]
    note(f"[generate] {N_PROMPTS} prompts x {MAX_NEW_TOKENS} new tokens, best of {REPEATS} per side")
    times, results = interleaved(
        {"personascope": lambda: batched(e, prompts), "sequential": lambda: sequential(e, prompts)}, REPEATS
    )
    ours, theirs = results["personascope"], results["sequential"]
    same = sum(a == b for a, b in zip(ours, theirs))
    tok_ours, tok_theirs = sum(map(len, ours)), sum(map(len, theirs))
    rate_ours = tok_ours / times["personascope"]
    rate_theirs = tok_theirs / times["sequential"]
    return report(
        "generate",
        times["sequential"] / times["personascope"],
        f"batched x{BATCH_SIZE}: {rate_ours:.1f} tok/s in {times['personascope']:.1f} s; "
        f"sequential model.generate: {rate_theirs:.1f} tok/s in {times['sequential']:.1f} s; "
        f"{N_PROMPTS} prompts, greedy, max_new_tokens={MAX_NEW_TOKENS}; "
        f"{same}/{N_PROMPTS} identical outputs",
    )


if __name__ == "__main__":
    run()
