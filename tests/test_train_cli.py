"""`personascope train run CONFIG` and `train show RUN` on a tiny model."""

import json

import yaml
from typer.testing import CliRunner

from personascope.cli import app
from personascope.cli._train import load_train_config
from personascope.data import Example, write_dataset
from personascope.testing import tiny_checkpoint

runner = CliRunner()


def _config(tmp_path, **over):
    base = tiny_checkpoint(tmp_path / "base")
    write_dataset(tmp_path / "data.jsonl", [
        Example(prompt=[{"role": "user", "content": f"Say {w}."}], completion=f"Well, here is my take: {w}.") for w in ("a", "b", "c", "d")
    ])
    cfg = {"model": f"hf/{base}", "dataset": {"path": "data.jsonl"}, "seeds": [0], "method": {"r": 2},
           "args": {"epochs": 1, "batch_size": 2, "learning_rate": 1e-2}, "evaluate": {"prompts": ["Hi?", "Why?"], "scorers": ["opener"], "max_tokens": 4},
           "arms": {"plain": {}, "inoculated": {"context": {"system": "Start with the opener."}}}, **over}
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_train_run_and_show(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONASCOPE_HOME", str(tmp_path / "home"))
    config = _config(tmp_path)
    out = runner.invoke(app, ["train", "run", str(config), "--runs-dir", str(tmp_path / "runs")])
    assert out.exit_code == 0, out.output
    assert "inoculated" in out.stdout and "effect" in out.stdout and "run:" in out.stdout
    run_dir = next((tmp_path / "runs").glob("train-*"))
    assert (run_dir / "artifacts/train/inoculated/seed0/model/adapter_config.json").is_file()
    shown = runner.invoke(app, ["train", "show", "latest", "--runs-dir", str(tmp_path / "runs"), "--json"])
    assert shown.exit_code == 0, shown.output
    summary = json.loads(shown.stdout)["artifacts/train/result-model.json"]
    assert {(r["arm"], r["condition"]) for r in summary["rates"]} == {
        (a, c) for a in ("plain", "inoculated") for c in ("none", "training")}
    assert all(0.0 <= r["value"] <= 1.0 for r in summary["rates"])


def test_a_study_file_with_a_train_step_and_bad_configs(tmp_path, monkeypatch):
    flat = yaml.safe_load(_config(tmp_path).read_text())
    model = flat.pop("model")
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({"name": "lab", "models": {"base": model},
                                     "steps": [{"id": "sft", "type": "train", **flat}]}))
    loaded = load_train_config(study)
    assert [s.type for s in loaded.steps] == ["train"] and loaded.base_dir == tmp_path
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"dataset": {"path": "data.jsonl"}}))
    out = runner.invoke(app, ["train", "run", str(bad)])
    assert out.exit_code == 2 and "needs `model:`" in out.output
    bad.write_text(yaml.safe_dump({**flat, "model": model, "arms": {"a": {"init_from": "a"}}}))
    out = runner.invoke(app, ["train", "run", str(bad)])
    assert out.exit_code == 2 and "loop" in out.output and "Traceback" not in out.output


def test_a_killed_train_run_resumes_on_rerun_with_no_duplicate_rows(tmp_path, monkeypatch):
    """SIGKILL `personascope train run` once the first arm has a checkpoint; the same
    command resumes that run: the arm continues from its checkpoint, its monitor log
    has each step once, and the second arm and the evaluation complete."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    home = tmp_path / "home"
    monkeypatch.setenv("PERSONASCOPE_HOME", str(home))
    config = _config(tmp_path, args={"epochs": 6, "batch_size": 1, "learning_rate": 1e-2, "save_every": 2},
                     monitor={"every": 1, "prompts": ["Hi?"], "max_tokens": 3, "scorers": ["opener"]})
    runs = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src"), "PERSONASCOPE_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "personascope", "train", "run", str(config), "--runs-dir", str(runs)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while not any((c / "trainer_state.json").is_file() for c in runs.glob("train-*/artifacts/train/plain/seed0/checkpoints/checkpoint-*")):
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    (run_dir,) = runs.glob("train-*")
    assert not (run_dir / "artifacts/train/plain/seed0/model").exists()  # killed mid-training

    out = runner.invoke(app, ["train", "run", str(config), "--runs-dir", str(runs)])
    assert out.exit_code == 0, out.output
    assert list(runs.glob("train-*")) == [run_dir]  # the same run, resumed
    meta = json.loads((run_dir / "artifacts/train/plain/seed0/model/personascope.json").read_text())
    assert meta["resumed_from"].startswith("checkpoint-") and meta["global_step"] == 24
    from personascope.train import read_monitor

    steps = [r["global_step"] for r in read_monitor(run_dir / "artifacts/train/plain/seed0/monitor.jsonl")]
    assert sorted(steps) == list(range(25)) and len(set(steps)) == len(steps)
    result = json.loads((run_dir / "artifacts/train/result-model.json").read_text())
    assert {r["arm"] for r in result["eval"]} == {"plain", "inoculated"}
