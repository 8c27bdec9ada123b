"""Run every benchmark in one process, sharing one loaded engine (`make bench`).

stdout gets one `NAME: ratio=X.XX (detail)` line per benchmark; progress goes
to stderr.
"""

import time

import torch

import bench_capture
import bench_flops
import bench_generate
import bench_steer
import bench_study_rerun
import bench_validate
from _common import engine, machine, note

BENCHMARKS = (bench_generate, bench_capture, bench_steer, bench_flops, bench_study_rerun, bench_validate)


def main() -> None:
    start = time.perf_counter()
    e = engine()
    note(
        f"[bench] {e!r} loaded in {time.perf_counter() - start:.1f} s; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {machine()}"
    )
    for bench in BENCHMARKS:
        t = time.perf_counter()
        bench.run(e)
        note(f"[bench] {bench.__name__} took {time.perf_counter() - t:.0f} s")
    note(f"[bench] total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
