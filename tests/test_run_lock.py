"""One process per run directory, with real processes: a second `study run` of a
running config stops (or waits with --wait); a killed run reads as interrupted and
resumes. The steps sleep on a file instead of loading a model, so this takes seconds."""

import json
import os
import signal
import subprocess
import sys
import time

from personascope.runs import list_runs, show_run

CLI = "from personascope.cli import main; main()"

STEP = '''
import os, time
from pathlib import Path
from personascope.protocol import Step


class Hold(Step):
    """Logs that it started, then waits until the release file exists."""

    log: str
    release: str

    def run(self, ctx):
        with open(self.log, "a") as fh:
            fh.write(f"{self.id} {os.getpid()}\\n")
        deadline = time.time() + 60
        while not Path(self.release).exists() and time.time() < deadline:
            time.sleep(0.02)
'''


def _setup(tmp_path):
    (tmp_path / "holdstep.py").write_text(STEP)
    log, release = tmp_path / "log.txt", tmp_path / "release"
    step = {"type": "holdstep:Hold", "log": str(log), "release": str(release)}
    config = {"name": "held", "models": ["mockllm/model"], "steps": [
        {"id": "quick", **step, "release": str(tmp_path)},  # exists: returns at once
        {"id": "slow", **step, "needs": ["quick"]},
    ]}
    (tmp_path / "study.yaml").write_text(json.dumps(config))
    return log, release


def _study(tmp_path, *args):
    env = {**os.environ, "PERSONASCOPE_HOME": str(tmp_path / "home"),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    return subprocess.Popen(
        [sys.executable, "-c", CLI, "study", "run", str(tmp_path / "study.yaml"), "--runs-dir", str(tmp_path / "runs"), *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _started(log, step, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if log.is_file() and any(line.split()[0] == step for line in log.read_text().splitlines()):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError(f"step {step} never started")


def test_a_second_process_stops_or_waits(tmp_path):
    log, release = _setup(tmp_path)
    first = _study(tmp_path)
    _started(log, "slow", first)
    [run] = list_runs(tmp_path / "runs")
    assert run.status == "running"  # live: the lock is held
    assert show_run(run.path)["process"]["pid"] == first.pid

    second = _study(tmp_path)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 2, err
    assert f"pid {first.pid}" in err and "--wait" in err and "--new" in err and str(run.path) in err

    waiter = _study(tmp_path, "--wait")
    time.sleep(1.0)
    assert waiter.poll() is None  # still waiting on the first
    release.touch()
    assert first.wait(timeout=60) == 0
    out, err = waiter.communicate(timeout=60)
    assert waiter.returncode == 0, err
    # The first run finished, so the waiter made its own run from the first's outputs.
    runs = list_runs(tmp_path / "runs")
    assert [r.status for r in runs] == ["done", "done"]
    waited = show_run(runs[1].path)
    assert [s["status"] for s in waited["steps"]] == ["done", "done"]
    assert json.loads((runs[1].path / "manifest.json").read_text())["steps"]["slow"]["reused"] is True
    # Each step body ran once, in the first process only.
    assert log.read_text().split() == ["quick", str(first.pid), "slow", str(first.pid)]


def test_a_killed_run_reads_interrupted_and_resumes(tmp_path):
    log, release = _setup(tmp_path)
    proc = _study(tmp_path)
    _started(log, "slow", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    [run] = list_runs(tmp_path / "runs")
    manifest = json.loads((run.path / "manifest.json").read_text())
    assert manifest["status"] == "running"  # nobody got to write otherwise
    assert run.status == "interrupted"
    info = show_run(run.path)
    assert info["status"] == "interrupted"
    assert [(s["id"], s["status"]) for s in info["steps"]] == [("quick", "done"), ("slow", "interrupted")]
    shown = subprocess.run([sys.executable, "-c", CLI, "runs", "list", "--runs-dir", str(tmp_path / "runs")],
                           capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"})
    assert "interrupted (rerun to resume)" in shown.stdout, shown.stdout

    release.touch()
    rerun = _study(tmp_path)
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    assert "quick (holdstep:Hold) already done in this run" in err
    [again] = list_runs(tmp_path / "runs")  # resumed in place
    assert again.path == run.path and again.status == "done"
    manifest = json.loads((run.path / "manifest.json").read_text())
    assert manifest["resumed"] == 1 and manifest["steps"]["slow"]["attempts"] == 2
    assert manifest["process"]["pid"] == rerun.pid
