"""An unchanged study rerun against its first run: the quickstart, end to end.

Both runs are the real CLI in a fresh process (imports, config, steps, report)
with an empty call cache for the first run. The converted embedded model is
shared, so its one-off conversion is not counted. ratio = first / rerun; the
target is >= 10 (a rerun in under a tenth of the first run's time).
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import note, report

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "examples" / "quickstart.yaml"


def _timed_run(home: Path, runs: Path) -> float:
    env = {**os.environ, "PERSONASCOPE_HOME": str(home)}
    cmd = [sys.executable, "-c", "from personascope.cli import main; main()", "study", "run", str(CONFIG), "--runs-dir", str(runs)]
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def run(e=None) -> str:
    from personascope._paths import models_dir
    from personascope.models._embedded import converted_dir

    converted_dir()  # convert once, outside the timed runs
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        (home / "models").symlink_to(models_dir())
        first = _timed_run(home, Path(tmp) / "runs")
        note(f"  first run: {first:.1f} s")
        rerun = min(_timed_run(home, Path(tmp) / "runs") for _ in range(3))
        note(f"  rerun (best of 3): {rerun:.2f} s")
    return report("study_rerun", first / rerun, f"quickstart first run {first:.1f} s, unchanged rerun {rerun:.2f} s; target >= 10")


if __name__ == "__main__":
    run()
