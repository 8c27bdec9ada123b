"""Checkpoint monitoring on a tiny random model trained for a few steps by transformers'
Trainer: rows at the baseline and every k steps, shifts from the baseline, the
update's norm and direction, and no duplicate rows when a run is resumed or rerun."""

import json
import math

import pytest
import torch

from personascope.errors import PersonascopeError
from personascope.testing import tiny_model
from personascope.train import MonitorConfig, read_monitor
from personascope.vectors import PersonaVector

QUESTIONS = ["What is rain?", "Name a colour.", "Why do cats purr?"]
TEXTS = ["hello there! how are you?", "the sky is blue!! indeed.", "cats purr when happy!!!", "rain is water falling."]


class _Data(torch.utils.data.Dataset):
    def __init__(self, tok):
        ids = tok(TEXTS, add_special_tokens=False, padding="max_length", max_length=32, truncation=True)
        self.rows = [
            {"input_ids": torch.tensor(i), "attention_mask": torch.tensor(m), "labels": torch.tensor([t if k else -100 for t, k in zip(i, m)])}
            for i, m in zip(ids["input_ids"], ids["attention_mask"])
        ]

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return self.rows[i]


@pytest.fixture
def vector_spec(tmp_path):
    torch.manual_seed(1)
    PersonaVector(torch.randn(4, 64), {"model": "tiny"}).save(tmp_path / "vec")
    return f"{tmp_path / 'vec'}@2"


def _train(model, tok, out_dir, callback, *, max_steps=4, lr=5e-3, save_steps=None, resume=None):
    from transformers import Trainer, TrainingArguments

    args = TrainingArguments(
        output_dir=str(out_dir), max_steps=max_steps, per_device_train_batch_size=2, learning_rate=lr,
        logging_steps=1000, save_strategy="steps" if save_steps else "no", save_steps=save_steps or 500,
        report_to=[], use_cpu=True, disable_tqdm=True, seed=0, warmup_steps=0, lr_scheduler_type="constant",
    )
    trainer = Trainer(model=model, args=args, train_dataset=_Data(tok), callbacks=[callback])
    trainer.train(resume_from_checkpoint=resume)
    return trainer


def _callback(tok, log, spec, **kw):
    from personascope.train import MonitorCallback

    config = MonitorConfig(every=2, prompts=QUESTIONS, scorers=["exclamation_rate"], vectors=[spec], max_tokens=6)
    return MonitorCallback(config, tokenizer=tok, log_path=log, **kw)


def _lora(model):
    from peft import LoraConfig, get_peft_model

    return get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], lora_dropout=0.0))


def test_lora_rows_at_the_baseline_and_every_k_steps(tmp_path, vector_spec):
    model, tok = tiny_model("llama")
    model = _lora(model)
    log = tmp_path / "monitor.jsonl"
    _train(model, tok, tmp_path / "out", _callback(tok, log, vector_spec), max_steps=5)
    rows = read_monitor(log)
    assert [r["global_step"] for r in rows] == [0, 2, 4, 5]  # baseline, every 2, the last step
    base = rows[0]
    assert base["loss"] is None and base["adapter_norm"] == 0.0 and base["update_cosine"] is None
    assert base["projection_shift"] == {vector_spec: 0.0}
    assert math.isfinite(base["projection"][vector_spec])
    assert all(0 <= r["scores"]["exclamation_rate"] <= 100 for r in rows)
    assert all(isinstance(r["loss"], float) and r["loss"] > 0 for r in rows[1:])
    norms = [r["adapter_norm"] for r in rows]
    assert norms[1] > 0 and norms[2] > norms[1]  # LoRA's B starts at 0 and moves away
    assert rows[1]["update_cosine"] is None and -1 <= rows[2]["update_cosine"] <= 1
    # the shift is the projection minus the baseline's, whatever the model did
    for r in rows:
        assert r["projection_shift"][vector_spec] == pytest.approx(r["projection"][vector_spec] - base["projection"][vector_spec])
    assert model.training  # put back in train mode after each check


def test_a_study_vector_name_is_resolved_and_keeps_its_label(tmp_path, vector_spec):
    """In a study, `STEP@L` names an earlier step's vector: the env resolves it to a
    path, and the rows keep the label as written (it names the metrics)."""
    path, layer = vector_spec.rsplit("@", 1)

    class Env:  # the one env method a monitor without a base model uses
        def resolve_spec(self, spec):
            return spec.replace("evil", path, 1)

    model, tok = tiny_model("llama")
    log = tmp_path / "monitor.jsonl"
    _train(_lora(model), tok, tmp_path / "out", _callback(tok, log, f"evil@{layer}", env=Env()), max_steps=2)
    direct = tmp_path / "direct.jsonl"
    model, tok = tiny_model("llama")
    _train(_lora(model), tok, tmp_path / "out2", _callback(tok, direct, vector_spec), max_steps=2)
    named, plain = read_monitor(log), read_monitor(direct)
    assert [set(r["projection"]) for r in named] == [{f"evil@{layer}"}] * len(named)
    assert [r["projection"][f"evil@{layer}"] for r in named] == pytest.approx([r["projection"][vector_spec] for r in plain])


def test_update_measures_match_the_dense_computation(tmp_path):
    from personascope.train._probe import UpdateTracker

    model, _ = tiny_model("llama")
    model = _lora(model)
    tracker = UpdateTracker(model)
    dense, snaps = [], []
    for k in range(3):
        with torch.no_grad():
            for name, p in model.named_parameters():
                if "lora_" in name:
                    p.add_(torch.randn_like(p) * 0.1)
        dense.append(torch.cat([
            (m.lora_B["default"].weight @ m.lora_A["default"].weight * m.scaling["default"]).detach().flatten()
            for m in model.modules() if hasattr(m, "lora_A") and "default" in getattr(m, "lora_A", {})
        ]))
        snaps.append(tracker.check(model))
    per_module = sum(
        float((m.lora_B["default"].weight @ m.lora_A["default"].weight).detach().norm() * m.scaling["default"])
        for m in model.modules() if hasattr(m, "lora_A") and "default" in getattr(m, "lora_A", {})
    )
    assert snaps[2][0] == pytest.approx(per_module, rel=1e-5)
    expected = torch.nn.functional.cosine_similarity(dense[1] - dense[0], dense[2] - dense[1], dim=0)
    assert snaps[2][1] == pytest.approx(float(expected), abs=1e-5)


def test_full_finetune_and_resume_add_no_duplicates(tmp_path, vector_spec):
    model, tok = tiny_model("llama")
    log = tmp_path / "monitor.jsonl"
    _train(model, tok, tmp_path / "out", _callback(tok, log, vector_spec), max_steps=4, lr=1e-3, save_steps=2)
    rows = read_monitor(log)
    assert [r["global_step"] for r in rows] == [0, 2, 4]
    assert rows[0]["adapter_norm"] == 0.0 and rows[2]["adapter_norm"] > rows[1]["adapter_norm"] > 0
    # A kill after the check at step 2: the step-4 row is lost, the last line torn.
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[:2]) + "\n" + lines[2][:20])
    model2, _ = tiny_model("llama")
    _train(model2, tok, tmp_path / "out", _callback(tok, log, vector_spec), max_steps=4, lr=1e-3, save_steps=2,
           resume=str(tmp_path / "out" / "checkpoint-2"))
    again = read_monitor(log)
    assert [r["global_step"] for r in again] == [0, 2, 4]
    assert again[:2] == rows[:2]
    assert again[2]["loss"] > 0 and again[2]["adapter_norm"] is None  # a full finetune's start is gone after a resume
    assert again[2]["projection_shift"][vector_spec] == pytest.approx(again[2]["projection"][vector_spec] - rows[0]["projection"][vector_spec])
    # Rerunning the whole training over the same log writes nothing new.
    model3, _ = tiny_model("llama")
    _train(model3, tok, tmp_path / "out2", _callback(tok, log, vector_spec), max_steps=4, lr=1e-3)
    assert [r["global_step"] for r in read_monitor(log)] == [0, 2, 4]


def test_config_and_log_errors(tmp_path):
    with pytest.raises(ValueError):
        MonitorConfig(every=0)
    with pytest.raises(ValueError):
        MonitorConfig(prompts=[])
    with pytest.raises(ValueError):
        MonitorConfig(surprise=1)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n" + json.dumps({"global_step": 1}) + "\n")
    with pytest.raises(PersonascopeError, match="bad.jsonl:1"):
        read_monitor(bad)
    assert read_monitor(tmp_path / "missing.jsonl") == []


def test_projection_follows_the_engine_convention(tmp_path, tiny_dir, vector_spec):
    """Measured from a base model through the cached handle (the engine's generate and
    capture), a model still equal to the base has no shift at its baseline."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerControl, TrainerState

    from personascope.protocol import LocalEnv
    from personascope.store import Cache

    tok = AutoTokenizer.from_pretrained(tiny_dir)
    model = _lora(AutoModelForCausalLM.from_pretrained(tiny_dir, dtype=torch.float32))
    env = LocalEnv(cache=Cache(tmp_path / "cache.sqlite"))
    log = tmp_path / "monitor.jsonl"
    callback = _callback(tok, log, vector_spec, base_model=f"hf/{tiny_dir}", env=env)
    callback.on_train_begin(None, TrainerState(), TrainerControl(), model=model)
    (row,) = read_monitor(log)
    assert row["global_step"] == 0 and abs(row["projection"][vector_spec]) > 1e-3  # a layer off would differ by more
    assert row["projection_shift"][vector_spec] == pytest.approx(0.0, abs=1e-4)
