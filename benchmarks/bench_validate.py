"""`personascope study validate examples/quickstart.yaml`, the real CLI in a fresh
process, against a bare `python -c pass` start on the same interpreter.

Validation reads configs, trait and family files and model configs; it must not
import torch, transformers or Inspect (seconds each), which is what makes it
fast. The goal is under 1 s on two idle cores. Each side is the best of 5 runs;
bytecode is written on the first run (as an installed package has it), so what
is timed is the import and validation work, not compiling the sources.
ratio = validate / bare start: how many bare interpreter starts validation costs.
"""

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from _common import machine, note, report

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "examples" / "quickstart.yaml"
REPEATS = 5
GOAL_S = 1.0


def _best(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Best wall time and best CPU time (user + system) of the child over `REPEATS` runs.

    CPU time is printed too: on a shared machine it moves far less than wall time."""
    wall = cpu = float("inf")
    for _ in range(REPEATS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        wall = min(wall, time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = min(cpu, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


def run(e=None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cli = "from personascope.cli import main; main()"
    validate = [sys.executable, "-c", cli, "study", "validate", str(CONFIG)]
    subprocess.run(validate, env=env, check=True, capture_output=True)  # writes bytecode; not timed
    bare, bare_cpu = _best([sys.executable, "-c", "pass"], env)
    took, took_cpu = _best(validate, env)
    note(f"  bare start {bare:.3f} s ({bare_cpu:.3f} s CPU), validate {took:.3f} s ({took_cpu:.3f} s CPU), best of {REPEATS}")
    verdict = "meets" if took < GOAL_S else "misses"
    return report(
        "study_validate", took / bare,
        f"validate {took:.2f} s wall, {took_cpu:.2f} s CPU = {took / bare:.1f} bare python starts of {bare:.3f} s; "
        f"{verdict} the goal < {GOAL_S:g} s; {machine()}",
    )


if __name__ == "__main__":
    run()
