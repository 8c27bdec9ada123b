"""Pooled activation capture vs one-sample-at-a-time `output_hidden_states=True`.

The baseline is what the persona_vectors reference code does: for each sample,
run prompt + response through the model with `output_hidden_states=True` and
average each layer's hidden states over the response positions. personascope
pools inside the forward pass, batched. The benchmark checks that both give
the same numbers before it compares times.
"""

import sys

import torch

from _common import PROMPTS, RESPONSES, engine, interleaved, note, report

# None = the engine's device default (8 on CPU: on 2 cores 8 beat 16, 32 and 64,
# since wider length-sorted batches pad more and the forward is already
# compute-bound; see --sweep).
BATCH_SIZE = None
REPEATS = 2
ATOL, RTOL = 1e-3, 1e-4


def one_at_a_time(e, prompts: list[str], responses: list[str]) -> torch.Tensor:
    """[n, n_layers, hidden]: response-mean of hidden_states[1:], one sample per forward.

    Prompt and response are tokenized separately and concatenated (as the engine
    does), so both sides see exactly the same token ids.
    """
    tok = e.tokenizer
    rows = []
    for prompt, response in zip(prompts, responses):
        text = tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True)
        prompt_ids = tok(text, add_special_tokens=False)["input_ids"]
        response_ids = tok(response, add_special_tokens=False)["input_ids"]
        ids = torch.tensor([prompt_ids + response_ids])
        with torch.inference_mode():
            out = e.model(input_ids=ids, output_hidden_states=True)
        start = len(prompt_ids)
        rows.append(torch.stack([h[0, start:].mean(0) for h in out.hidden_states[1:]]))
    return torch.stack(rows)


def batched(e, prompts, responses, batch_size: int | None) -> torch.Tensor:
    return e.capture(prompts, responses, poolings=("response_mean",), batch_size=batch_size)["response_mean"]


def check_same(ours: torch.Tensor, theirs: torch.Tensor) -> float:
    """Max abs difference over layers 0..n-2, checked allclose-style (some
    residual-stream entries of this model reach the thousands, where float32
    rounding alone is ~1e-4). transformers returns the final hidden state *after*
    the model's last norm, so hidden_states[n] is not block n-1's output
    (personascope's last layer); that layer is left out of the check."""
    ours, theirs = ours[:, :-1], theirs[:, :-1]
    diff = (ours - theirs).abs()
    if not bool((diff <= ATOL + RTOL * theirs.abs()).all()):
        raise AssertionError(f"capture differs from the one-at-a-time reference: max abs diff {diff.max():.2e}")
    return diff.max().item()


def run(e=None, batch_size: int | None = BATCH_SIZE) -> str:
    e = e or engine()
    batch_size = batch_size or e.forward_batch_size
    note(f"[capture] {len(PROMPTS)} pairs, all {e.n_layers} layers, response_mean, batch {batch_size}")
    sides = {
        "personascope": lambda: batched(e, PROMPTS, RESPONSES, batch_size),
        "one_at_a_time": lambda: one_at_a_time(e, PROMPTS, RESPONSES),
    }
    times, results = interleaved(sides, REPEATS)
    diff = check_same(results["personascope"], results["one_at_a_time"])
    n_tokens = sum(len(p) + len(r) for p, r in zip(e.encode_prompts(PROMPTS), e.encode_text(RESPONSES)))
    return report(
        "capture",
        times["one_at_a_time"] / times["personascope"],
        f"batch {batch_size}: {times['personascope']:.1f} s ({n_tokens / times['personascope']:.0f} tok/s); "
        f"one-at-a-time output_hidden_states: {times['one_at_a_time']:.1f} s "
        f"({n_tokens / times['one_at_a_time']:.0f} tok/s); {len(PROMPTS)} pairs, {n_tokens} tokens, "
        f"{e.n_layers} layers; max abs diff {diff:.1e} (layers 0-{e.n_layers - 2})",
    )


def sweep(e=None, sizes=(4, 8, 16, 32, 64)) -> None:
    """Time capture at several batch sizes (to pick the default), interleaved."""
    e = e or engine()
    times, _ = interleaved({str(b): (lambda b=b: batched(e, PROMPTS, RESPONSES, b)) for b in sizes}, REPEATS)
    for b, t in times.items():
        note(f"[capture] batch_size={b}: {t:.2f} s")


if __name__ == "__main__":
    if "--sweep" in sys.argv:
        sweep()
    else:
        run()
