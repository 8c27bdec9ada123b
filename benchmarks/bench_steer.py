"""Steered vs unsteered generation: the cost of the intervention hooks.

Same 32 prompts, same batch, greedy. Steering changes the text, so it can change
how many decoding steps a batch runs; times are compared per step.
"""

import torch

from _common import PROMPTS, engine, interleaved, note, report

N_PROMPTS = 32
MAX_NEW_TOKENS = 48
BATCH_SIZE = 32
REPEATS = 3
COEF = 4.0


def steps(gens) -> int:
    """Decoding steps the (single) batch ran: its longest row, stop token included."""
    return max(len(g.token_ids) + (g.finish_reason == "stop") for g in gens)


def run(e=None) -> str:
    from personascope.engine import AddVector

    e = e or engine()
    prompts = PROMPTS[:N_PROMPTS]
    vec = torch.randn(e.hidden_size, generator=torch.Generator().manual_seed(0))
    vec = vec / vec.norm()
    middle = e.n_layers // 2

    def generate():
        return e.generate(prompts, max_new_tokens=MAX_NEW_TOKENS, batch_size=BATCH_SIZE)

    def steered(layers):
        def go():
            with e.intervene(AddVector(vec, layers=layers, coef=COEF)):
                return generate()

        return go

    note(f"[steer] {N_PROMPTS} prompts x {MAX_NEW_TOKENS} tokens, batch {BATCH_SIZE}, best of {REPEATS}")
    times, results = interleaved(
        {
            "unsteered": generate,
            "one_layer": steered([middle]),
            "all_layers": steered(list(range(e.n_layers))),
        },
        REPEATS,
    )
    per_step = {k: times[k] / steps(results[k]) for k in times}
    ratio = {k: per_step["unsteered"] / per_step[k] for k in per_step}
    overhead = {k: 100 * (per_step[k] / per_step["unsteered"] - 1) for k in per_step}
    return report(
        "steer",
        ratio["one_layer"],
        f"ratio = unsteered/steered time per decoding step; overhead one layer ({middle}): "
        f"{overhead['one_layer']:+.1f}%, all {e.n_layers} layers: {overhead['all_layers']:+.1f}% "
        f"(ratio {ratio['all_layers']:.2f}); unsteered {per_step['unsteered'] * 1000:.0f} ms/step, "
        f"{N_PROMPTS} prompts, batch {BATCH_SIZE}, AddVector coef {COEF}",
    )


if __name__ == "__main__":
    run()
