"""A study killed with SIGKILL mid-step resumes: finished work reused, nothing lost or duplicated."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from personascope.store import RunStore

N_PROMPTS = 128
CLI = "from personascope.cli import main; main()"


def _config(folder, tiny_dir):
    config = {
        "name": "killme",
        "models": {"tiny": f"hf/{tiny_dir}"},
        "steps": [
            {"id": "vec", "type": "contrast", "questions": ["a?", "b?", "c?"], "positive_system": "Up.",
             "negative_system": "Down.", "max_tokens": 4},
            {"id": "many", "type": "generate", "max_tokens": 12, "project": ["vec@1"],
             "prompts": [f"Question {i}: what is {i} plus {i}?" for i in range(N_PROMPTS)]},
        ],
    }
    path = folder / "study.yaml"
    path.write_text(json.dumps(config))
    return str(path)


def _study(args, home, **kwargs):
    env = {**os.environ, "PERSONASCOPE_HOME": str(home), "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.Popen([sys.executable, "-c", CLI, "study", "run", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _generated(cache_file) -> int:
    if not cache_file.is_file():
        return 0
    try:
        with sqlite3.connect(cache_file, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM entries WHERE op = 'generate'").fetchone()[0]
    except sqlite3.OperationalError:  # table not created yet
        return 0


def test_sigkill_mid_step_then_resume(tmp_path, tiny_dir):
    config = _config(tmp_path, tiny_dir)
    home, runs = tmp_path / "home", tmp_path / "runs"
    cache_file = home / "cache" / "calls.sqlite"
    proc = _study([config, "--runs-dir", str(runs)], home)
    deadline = time.time() + 300
    # The contrast step makes 6 generations; wait for the big step's first chunk.
    while _generated(cache_file) < 6 + 16 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_at_kill = _generated(cache_file) - 6
    run_dir = next(runs.iterdir())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "running" and manifest["steps"]["many"]["status"] == "running", "killed too late"
    assert 0 < done_at_kill < N_PROMPTS

    out, err = _study([config, "--runs-dir", str(runs)], home).communicate(timeout=600)
    assert "already done in this run" in err, err
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert [p.name for p in runs.iterdir()] == [run_dir.name]  # resumed in place, not a new run
    assert manifest["status"] == "done" and manifest["resumed"] == 1
    step = manifest["steps"]["many"]
    assert step["attempts"] == 2 and manifest["steps"]["vec"]["attempts"] == 1
    # Every generation finished before the kill came from the cache; only the rest ran.
    assert step["cache"]["hits"] >= done_at_kill
    assert step["cache"]["hits"] + step["cache"]["misses"] == 2 * N_PROMPTS  # generate + project
    rows = RunStore(run_dir / "store.sqlite").transcripts("many")
    assert len(rows) == N_PROMPTS == len({r.id for r in rows}) == len({r.sample for r in rows})

    # The resumed run equals an uninterrupted one computed from scratch.
    clean = _study([config, "--runs-dir", str(tmp_path / "clean"), "--no-cache"], tmp_path / "home2")
    clean.communicate(timeout=600)
    clean_dir = next((tmp_path / "clean").iterdir())
    reference = RunStore(clean_dir / "store.sqlite").transcripts("many")
    assert [(r.sample, r.output) for r in rows] == [(r.sample, r.output) for r in reference]
    for a, b in zip(rows, reference):
        assert abs(a.scores["projection vec@1"] - b.scores["projection vec@1"]) < 1e-4
