"""Forward-pass FLOP/s against the machine's measured float32 matmul FLOP/s.

A forward pass costs about 2 x parameters FLOPs per token (the tied embedding
counts once, as the output projection; attention scores are left out). The
ratio printed is the utilisation: achieved / measured matmul FLOP/s.
"""

import torch

from _common import best_of, engine, note, report

BATCH, SEQ = 32, 128
MATMUL_N = 2048
MATMUL_REPEATS = 10
FORWARD_REPEATS = 3


def matmul_flops() -> float:
    a = torch.randn(MATMUL_N, MATMUL_N)
    b = torch.randn(MATMUL_N, MATMUL_N)
    torch.matmul(a, b)  # warm-up
    t, _ = best_of(lambda: torch.matmul(a, b), MATMUL_REPEATS)
    return 2 * MATMUL_N**3 / t


def run(e=None) -> str:
    e = e or engine()
    params = sum(p.numel() for p in e.model.parameters())
    ids = torch.randint(0, e.tokenizer.vocab_size, (BATCH, SEQ), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)

    def forward():
        with torch.inference_mode():
            return e.model(input_ids=ids, attention_mask=mask, use_cache=False).logits.shape

    note(f"[flops] matmul {MATMUL_N}^2 best of {MATMUL_REPEATS}; forward {BATCH}x{SEQ} best of {FORWARD_REPEATS}")
    peak = matmul_flops()
    t, _ = best_of(forward, FORWARD_REPEATS)
    peak = max(peak, matmul_flops())  # measured again after, in case load changed
    tokens = BATCH * SEQ
    achieved = 2 * params * tokens / t
    return report(
        "forward_flops",
        achieved / peak,
        f"ratio = utilisation; achieved {achieved / 1e9:.1f} GFLOP/s of {peak / 1e9:.1f} GFLOP/s measured "
        f"float32 matmul ({MATMUL_N}x{MATMUL_N}); {tokens / t:.0f} tok/s, forward {BATCH}x{SEQ} "
        f"in {t:.2f} s, 2 x {params / 1e6:.1f}M params FLOPs/token, {e.dtype}, {torch.get_num_threads()} threads",
    )


if __name__ == "__main__":
    run()
