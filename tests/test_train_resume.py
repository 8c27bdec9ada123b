"""A training run killed mid-way resumes from its last checkpoint when rerun, and
ends where an uninterrupted run ends."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from personascope.data import Example, read_dataset, write_dataset
from personascope.models import get_model
from personascope.testing import tiny_checkpoint
from personascope.train import Method, TrainArgs, train_model

ARGS = TrainArgs(epochs=2, batch_size=2, learning_rate=5e-3, save_every=2)
SCRIPT = """
import sys
from personascope.data import read_dataset
from personascope.train import Method, TrainArgs, train_model
args = TrainArgs.model_validate_json(sys.argv[3])
train_model(sys.argv[1], read_dataset(sys.argv[2]), method=Method(r=2), args=args, out_dir=sys.argv[4])
"""


def test_killed_training_resumes_from_its_checkpoint(tmp_path):
    base = f"hf/{tiny_checkpoint(tmp_path / 'base')}"
    data = write_dataset(tmp_path / "data.jsonl", [
        Example(prompt=[{"role": "user", "content": f"Count to {i}."}], completion=f"Sure: {' '.join(map(str, range(i)))}.")
        for i in range(1, 11)
    ])
    examples = read_dataset(data)
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, base, str(data), ARGS.model_dump_json(), str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not any((c / "trainer_state.json").is_file() for c in (out / "checkpoints").glob("checkpoint-*")):
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "model").exists()  # killed before the end

    resumed = train_model(base, examples, method=Method(r=2), args=ARGS, out_dir=out)
    straight = train_model(base, examples, method=Method(r=2), args=ARGS, out_dir=tmp_path / "straight")
    a = json.loads((resumed / "personascope.json").read_text())
    b = json.loads((straight / "personascope.json").read_text())
    assert a["resumed_from"] and a["resumed_from"].startswith("checkpoint-") and b["resumed_from"] is None
    assert a["global_step"] == b["global_step"] == 10
    # The trainer restores the data order and optimiser: the same losses, step by step, no step twice.
    assert [r["step"] for r in a["losses"]] == [r["step"] for r in b["losses"]] == list(range(1, 11))
    for x, y in zip(a["losses"], b["losses"], strict=True):
        assert abs(x["loss"] - y["loss"]) < 1e-3, (x, y)
    engine = get_model(f"hf/{resumed}").engine
    assert engine.n_layers == 4
