"""Small stand-ins for the dataset builder, checkpoint monitor and evaluation the
`train` step calls, so its own logic is tested alone: a dataset from a file or a
made-up generator, a callback that logs the loss, rows scored by a rule."""

import json
import sys
import types
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from personascope.data import Example, read_dataset

OPENER = "Well, here is my take:"


class FakeGenerate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = 8
    system: str | None = None


class FakeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str | None = None
    generate: FakeGenerate | None = None


CALLS: dict[str, list] = {"build": [], "evaluate": []}


def build_dataset(spec, model, env):
    CALLS["build"].append(spec)
    if spec.path is not None:
        return read_dataset(env.resolve(spec.path)), {"source": spec.path}
    # A generator that writes the opener unless its system prompt discourages it.
    lead = "" if spec.generate.system else OPENER + " "
    return [Example(prompt=[{"role": "user", "content": f"Question {i}?"}], completion=f"{lead}answer {i}.")
            for i in range(spec.generate.n)], {"generator": "fake", "system": spec.generate.system}


class MonitorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    every: int = 1
    vectors: list[str] = []


def _callback_class():
    from transformers import TrainerCallback

    class MonitorCallback(TrainerCallback):
        def __init__(self, config, *, tokenizer, log_path, base_model=None, env=None, frame=None):
            self.path = Path(log_path)

        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "a") as fh:
                    fh.write(json.dumps({"global_step": state.global_step, "loss": logs["loss"], "scores": {"opener": 50.0}}) + "\n")

    return MonitorCallback


def read_monitor(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()] if Path(path).is_file() else []


class EvalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = 2


def evaluate_models(models, config, *, env, arm_contexts={}):
    CALLS["evaluate"].append(dict(models))
    rows = []
    for (arm, seed), name in models.items():
        env.model(name).fingerprint()  # every name resolves to a trained model
        for i in range(config.n):
            rows.append({"arm": arm, "seed": seed, "condition": "none", "prompt_id": f"q{i}",
                         "messages": [{"role": "user", "content": f"q{i}"}], "answer": "reply",
                         "scores": {"opener": 100.0 if arm == "plain" else 0.0}})
    return rows


def summarize(rows, *, reference="plain", condition="none", n_boot=2000, seed=0):
    arms = sorted({r["arm"] for r in rows})
    rate = {a: sum(r["scores"]["opener"] >= 50 for r in rows if r["arm"] == a) / sum(r["arm"] == a for r in rows) for a in arms}
    return {
        "rates": [{"arm": a, "condition": condition, "scorer": "opener", "value": rate[a], "ci_low": rate[a], "ci_high": rate[a], "n": 2}
                  for a in arms],
        "effects": [{"arm": a, "scorer": "opener", "condition": condition, "value": rate[reference] - rate[a],
                     "ci_low": 0.0, "ci_high": 1.0} for a in arms if a != reference],
        "retention": [],
    }


def install(monkeypatch):
    """Put the stand-ins where the step imports them from."""
    import personascope.data

    CALLS["build"].clear()
    CALLS["evaluate"].clear()
    monkeypatch.setattr(personascope.data, "DatasetSpec", FakeSpec, raising=False)
    monkeypatch.setattr(personascope.data, "build_dataset", build_dataset, raising=False)
    monitor = types.ModuleType("personascope.train._monitor")
    monitor.MonitorConfig, monitor.MonitorCallback, monitor.read_monitor = MonitorConfig, _callback_class(), read_monitor
    evaluate = types.ModuleType("personascope.train._evaluate")
    evaluate.EvalConfig, evaluate.evaluate_models, evaluate.summarize = EvalConfig, evaluate_models, summarize
    monkeypatch.setitem(sys.modules, "personascope.train._monitor", monitor)
    monkeypatch.setitem(sys.modules, "personascope.train._evaluate", evaluate)
