"""Run every benchmark in one process, sharing one loaded engine (`make bench`).

stdout gets one `NAME: ratio=X.XX (detail)` line per benchmark; progress goes
to stderr.
"""

import os
import platform
import time

import torch

import bench_capture
import bench_flops
import bench_generate
import bench_steer
import bench_study_rerun
from _common import engine, note

BENCHMARKS = (bench_generate, bench_capture, bench_steer, bench_flops, bench_study_rerun)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def main() -> None:
    start = time.perf_counter()
    e = engine()
    note(
        f"[bench] {e!r} loaded in {time.perf_counter() - start:.1f} s; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs ({cpu_name()})"
    )
    for bench in BENCHMARKS:
        t = time.perf_counter()
        bench.run(e)
        note(f"[bench] {bench.__name__} took {time.perf_counter() - t:.0f} s")
    note(f"[bench] total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
