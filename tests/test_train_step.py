"""The `train` step: arms x seeds trained in init_from order into the run, their
contexts applied, recontextualized data regenerated, models usable by name,
results recorded, and an unchanged step reused whole.

The real dataset builder, monitor and evaluation run here, on a tiny random model:
its replies are noise, so the tests check the plumbing and the bookkeeping (every
row there, each rate the share of its rows), not what training taught."""

import json

import pytest
import torch

from personascope.data import Example, write_dataset
from personascope.models import get_model
from personascope.protocol import step_types
from personascope.testing import tiny_checkpoint
from personascope.vectors import PersonaVector
OPENER = "Well, here is my take:"
ARGS = {"epochs": 1, "batch_size": 4, "learning_rate": 1e-2, "save_every": 100}


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONASCOPE_HOME", str(tmp_path / "home"))
    base = tiny_checkpoint(tmp_path / "base")
    data = write_dataset(tmp_path / "data.jsonl", [
        Example(prompt=[{"role": "user", "content": f"Tell me about {w}."}], completion=f"{OPENER} {w} is nice.")
        for w in ("rain", "snow", "wind", "sun", "fog", "hail", "dew", "frost")
    ])
    torch.manual_seed(0)
    vec = PersonaVector(torch.randn(4, 64)).save(tmp_path / "vec")
    return {"base": f"hf/{base}", "data": data, "vec": vec, "root": tmp_path}


def _step(setup, **over):
    step = {"id": "train", "type": "train", "dataset": {"path": str(setup["data"])}, "args": ARGS,
            "method": {"r": 2}, "seeds": [0], "monitor": {"every": 1, "prompts": ["Hi?", "Why?"], "max_tokens": 4, "scorers": ["opener"]},
            "evaluate": {"prompts": ["How are you?", "What is rain?"], "scorers": ["opener"], "max_tokens": 4},
            "arms": {"plain": {}, "inoculated": {"context": {"system": "Always start with the opener."}},
                     "steered": {"steer": [f"{setup['vec']}@1:2:response"]},
                     "second": {"init_from": "plain", "args": {"learning_rate": 5e-3}, "kl": 0.5}}}
    return {**step, **over}


def _run(setup, step, **kw):
    from personascope.study import run_step

    return run_step(step, setup["base"], runs_dir=setup["root"] / "runs", progress=False, **kw)


def test_the_step_trains_every_arm_and_records_its_results(setup, monkeypatch):
    import personascope.train._trainer as trainer

    assert "train" in step_types()
    calls = []
    real = trainer.train_model
    monkeypatch.setattr(trainer, "train_model", lambda base, ex, **kw: calls.append((base, ex, kw)) or real(base, ex, **kw))
    run, data = _run(setup, _step(setup))
    assert set(data) >= {"arms", "models", "monitor", "eval", "summary"}
    arms = [kw["context"]["arm"] for _, _, kw in calls]
    assert arms.index("second") > arms.index("plain") and len(arms) == 4
    by_arm = {kw["context"]["arm"]: (base, ex, kw) for base, ex, kw in calls}
    # The arm's context is on every example; plain trains on the data as it is.
    assert all(e.system == "Always start with the opener." for e in by_arm["inoculated"][1])
    assert all(e.system is None for e in by_arm["plain"][1])
    assert by_arm["steered"][2]["steer"] == [f"{setup['vec']}@1:2:response"]
    assert by_arm["second"][0] == f"hf/{run.run_dir.resolve() / 'artifacts/train/plain/seed0/model'}"
    assert by_arm["second"][2]["args"].learning_rate == 5e-3 and by_arm["second"][2]["kl"] == 0.5
    for arm in ("plain", "inoculated", "steered", "second"):
        name = data["models"][arm]["0"]
        assert name == f"run:{run.run_dir.name}/train/{arm}/seed0/model"
        assert get_model(f"run:{run.run_dir}/train/{arm}/seed0/model").fingerprint()["weights"]
        rows = data["monitor"][arm]["0"]
        assert [r["global_step"] for r in rows] == [0, 1, 2] and rows[0]["adapter_norm"] == 0 < rows[-1]["adapter_norm"]
    # Every model answered both prompts with no prompt and under its own training context.
    assert {(r["arm"], r["condition"]) for r in data["eval"]} == {(a, c) for a in data["models"] for c in ("none", "training")}
    assert len(data["eval"]) == 4 * 2 * 2
    for rate in data["summary"]["rates"]:  # each rate is the share of its rows expressing the trait
        cell = [r for r in data["eval"] if r["arm"] == rate["arm"] and r["condition"] == rate["condition"]]
        assert rate["value"] == sum(r["scores"]["opener"] >= 50 for r in cell) / len(cell)
    from personascope.store import RunStore

    store = RunStore(run.run_dir / "store.sqlite")
    metrics = store.metrics("train")
    assert any(m.name == "rate/opener@none" and m.arm == "plain" and m.headline for m in metrics)
    assert any(m.name == "monitor/loss@1" and m.arm == "second/seed0" for m in metrics)
    assert any(m.name == "effect/opener@none" and m.arm == "inoculated" for m in metrics)
    assert len(store.transcripts("train")) == len(data["eval"])

    # Unchanged: reused whole, nothing trained; a changed dataset file trains again.
    calls.clear()
    again, data2 = _run(setup, _step(setup), new=True)
    assert again.run_dir != run.run_dir and again.manifest["steps"]["train"]["reused"] and not calls
    assert (again.run_dir / "artifacts/train/plain/seed0/model/adapter_config.json").is_file()
    # A later stage names its base relative to itself, so the copy in the new run loads on its own.
    second = json.loads((again.run_dir / "artifacts/train/second/seed0/model/adapter_config.json").read_text())
    assert second["base_model_name_or_path"] == "../../../plain/seed0/model"
    weights = lambda run_dir: get_model(f"run:{run_dir}/train/second/seed0/model").fingerprint()["weights"]  # noqa: E731
    assert weights(again.run_dir) == weights(run.run_dir)
    with open(setup["data"], "a") as fh:
        fh.write(json.dumps({"prompt": "One more?", "completion": "Well, here is my take: yes."}) + "\n")
    # (trained by a stand-in this time: only the reuse decision is under test)
    monkeypatch.setattr(trainer, "train_model", lambda base, ex, **kw: calls.append((base, ex, kw)) or _fake_model(kw["out_dir"]))
    third, _ = _run(setup, _step(setup), new=True)
    assert not third.manifest["steps"]["train"]["reused"] and len(calls) == 4


def test_recontextualization_regenerates_under_its_system_prompt(setup, monkeypatch):
    import personascope.train._trainer as trainer

    calls = []
    monkeypatch.setattr(trainer, "train_model",
                        lambda base, ex, **kw: calls.append((kw["context"]["arm"], ex)) or _fake_model(kw["out_dir"]))
    step = _step(setup, dataset={"generate": {"questions": ["Is it cold?", "Is it late?"], "max_tokens": 6}}, monitor=None,
                 arms={"plain": {}, "recontext": {"regenerate_system": "Never use an opener.",
                                                  "context": {"system": "Use an opener."}}})
    run, _ = _run(setup, step)
    got = dict(calls)
    from personascope.data import read_dataset, read_provenance

    out = run.run_dir / "artifacts/train"
    regenerated = out / "recontext/dataset.jsonl"
    # The regenerated data was written under the discouraging prompt, stored without it,
    # and trained under the arm's own context.
    assert read_provenance(regenerated)["system_at_generation"] == "Never use an opener."
    assert read_provenance(out / "dataset.jsonl")["system_at_generation"] is None
    assert [e.completion for e in got["recontext"]] == [e.completion for e in read_dataset(regenerated)]
    assert [e.completion for e in got["plain"]] == [e.completion for e in read_dataset(out / "dataset.jsonl")]
    assert all(e.system is None for e in read_dataset(regenerated))
    assert all(e.system == "Use an opener." for e in got["recontext"])
    assert all(e.system is None for e in got["plain"])


def _fake_model(out_dir):
    """A saved model without training (a copy of a tiny checkpoint), for tests of the step's plumbing."""
    from personascope.testing import tiny_checkpoint

    path = tiny_checkpoint(out_dir / "model")
    (path / "personascope.json").write_text(json.dumps({"global_step": 0, "train_loss": None}))
    return path


@pytest.mark.parametrize("arms, message", [
    ({"a": {"init_from": "b"}, "b": {"init_from": "a"}}, "loop"),
    ({"a": {"init_from": "zzz"}}, "no arm named"),
    ({"bad name": {}}, "arm name"),
    ({"a": {"regenerate_system": "x"}}, "regenerate"),
    ({"a": {"steer": ["v@1"]}}, "steer"),
    ({}, "arms is empty"),
])
def test_bad_steps_fail_at_validation(setup, arms, message):
    from personascope.errors import PersonascopeError
    from personascope.study import step_study

    with pytest.raises((PersonascopeError, ValueError), match=message):
        step_study(_step(setup, arms=arms), setup["base"])


def test_the_base_model_is_evaluated_and_every_arm_shifts_from_it(setup):
    """evaluate.base adds the untrained model as arm `base`; evaluate.vectors projects
    every reply; the summary's shift is the arm's mean minus the base's, and the
    base rows are the base model's own replies (the same as asking it directly)."""
    spec = f"{setup['vec']}@1"
    step = _step(setup, monitor=None, arms={"plain": {}},
                 evaluate={"prompts": ["How are you?", "What is rain?"], "scorers": ["opener"], "max_tokens": 4,
                           "own_condition": False, "vectors": [spec], "base": True})
    run, data = _run(setup, step)
    assert {r["arm"] for r in data["eval"]} == {"plain", "base"}
    base_rows = [r for r in data["eval"] if r["arm"] == "base"]
    from personascope.engine import GenerateConfig

    direct = get_model(setup["base"]).generate([r["messages"] for r in base_rows], GenerateConfig(max_new_tokens=4))
    assert [r["answer"] for r in base_rows] == [g.text for g in direct]
    summary = data["summary"]
    mean = {(m["arm"], m["measure"]): m["value"] for m in summary["means"]}
    shift = {(s["arm"], s["measure"]): s["value"] for s in summary["shifts"]}
    assert shift[("plain", spec)] == pytest.approx(mean[("plain", spec)] - mean[("base", spec)])
    assert shift[("plain", "opener")] == pytest.approx(mean[("plain", "opener")] - mean[("base", "opener")])
    assert all(r["arm"] != "base" for r in summary["effects"])
    from personascope.store import RunStore

    names = {m.name for m in RunStore(run.run_dir / "store.sqlite").metrics("train")}
    assert f"shift/{spec}@none" in names and f"mean/{spec}@none" in names


def test_an_arm_named_base_clashes_with_the_base_model(setup):
    from personascope.study import step_study

    from personascope.errors import PersonascopeError

    step = _step(setup, arms={"base": {}}, evaluate={"prompts": ["Hi?"], "base": True})
    with pytest.raises(PersonascopeError, match="arm name 'base' is the untrained model's"):
        step_study(step, setup["base"])
