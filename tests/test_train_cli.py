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
