"""Trained models as model names: a full-finetuned checkpoint directory, a PEFT LoRA
adapter directory (each trained for one step here) and run artifacts, loaded by name
in Python, `eval`, `vectors project` and the Inspect provider."""

import json
import shutil

import pytest
import torch
from typer.testing import CliRunner

from personascope.cli import app
from personascope.errors import PersonascopeError
from personascope.models import get_model, weights_fingerprint
from personascope.testing import tiny_checkpoint
from personascope.vectors import PersonaVector

runner = CliRunner()
TEXT = "hello there, how are you today?"


def _one_step(model, tok, lr: float) -> None:
    batch = tok(TEXT, return_tensors="pt")
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    model(**batch, labels=batch["input_ids"]).loss.backward()
    optimizer.step()
    model.eval()


def _logits(model, tok) -> torch.Tensor:
    with torch.no_grad():
        return model(**tok(TEXT, return_tensors="pt")).logits


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Base, full-finetuned and LoRA-adapter directories, with the in-memory logits."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    root = tmp_path_factory.mktemp("trained")
    base = tiny_checkpoint(root / "base")
    tok = AutoTokenizer.from_pretrained(base)
    torch.manual_seed(0)

    full = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    _one_step(full, tok, lr=1e-2)
    full.save_pretrained(root / "full")
    tok.save_pretrained(root / "full")

    lora = get_peft_model(
        AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32),
        LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], lora_dropout=0.0),
    )
    _one_step(lora, tok, lr=5e-2)
    lora.save_pretrained(root / "adapter")  # no tokenizer: the base's is used
    return {
        "root": root, "base": base, "full": root / "full", "adapter": root / "adapter", "tok": tok,
        "base_logits": _logits(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).eval(), tok),
        "full_logits": _logits(full, tok),
        "adapter_logits": _logits(lora.merge_and_unload(), tok),
    }


def test_full_checkpoint_loads_by_name_and_differs_from_the_base(trained):
    model = get_model(f"hf/{trained['full']}")
    logits = _logits(model.engine.model, trained["tok"])
    assert torch.allclose(logits, trained["full_logits"], atol=1e-5)
    assert not torch.allclose(logits, trained["base_logits"], atol=1e-3)
    weights = model.fingerprint()["weights"]
    assert weights == weights_fingerprint(trained["full"]) == model.engine.weights_hash
    assert weights != get_model(f"hf/{trained['base']}").fingerprint()["weights"]
    # Stable: a new handle, and the same files in another place, give the same fingerprint.
    moved = shutil.copytree(trained["full"], trained["root"] / "full-copy")
    assert get_model(f"hf/{trained['full']}").fingerprint() == get_model(f"hf/{moved}").fingerprint() == model.fingerprint()


def test_adapter_loads_merged_and_has_its_own_fingerprint(trained):
    model = get_model(f"hf/{trained['adapter']}")
    # Shape comes from the base's config.json, so specs validate before anything loads.
    assert (model.n_layers(), model.hidden_size()) == (4, 64) and model._engine is None
    right = PersonaVector(torch.randn(4, 64)).save(trained["root"] / "vec64")
    wrong = PersonaVector(torch.randn(4, 32)).save(trained["root"] / "vec32")
    assert len(model.check_interventions([("steer", f"{right}@-1:2")]).items) == 1
    with pytest.raises(PersonascopeError, match="hidden size is 64"):
        model.check_interventions([("steer", f"{wrong}@1:2")])
    assert model._engine is None
    base = get_model(f"hf/{trained['base']}")
    assert model.fingerprint()["weights"] != base.fingerprint()["weights"]
    assert model.fingerprint()["tokenizer"] == base.fingerprint()["tokenizer"]
    logits = _logits(model.engine.model, trained["tok"])
    assert torch.allclose(logits, trained["adapter_logits"], atol=1e-5)
    assert not torch.allclose(logits, trained["base_logits"], atol=1e-4)
    # Merged into a plain model: no PEFT wrapper, so layer lookup and hooks work as usual.
    assert type(model.engine.model).__name__ == "LlamaForCausalLM" and model.engine.n_layers == 4
    assert model.engine.weights_hash == model.fingerprint()["weights"]


def test_adapter_fingerprint_covers_its_config_and_weights_and_base(trained, tmp_path):
    original = get_model(f"hf/{trained['adapter']}").fingerprint()["weights"]
    alpha = shutil.copytree(trained["adapter"], tmp_path / "alpha")
    config = json.loads((alpha / "adapter_config.json").read_text())
    (alpha / "adapter_config.json").write_text(json.dumps({**config, "lora_alpha": 16}))
    assert get_model(f"hf/{alpha}").fingerprint()["weights"] != original

    other_base = tiny_checkpoint(tmp_path / "other-base", seed=1)
    rebased = shutil.copytree(trained["adapter"], tmp_path / "rebased")
    (rebased / "adapter_config.json").write_text(json.dumps({**config, "base_model_name_or_path": f"hf/{other_base}"}))
    assert get_model(f"hf/{rebased}").fingerprint()["weights"] != original

    # The base's location is not part of it: the same base named another way matches.
    renamed = shutil.copytree(trained["adapter"], tmp_path / "renamed")
    (renamed / "adapter_config.json").write_text(json.dumps({**config, "base_model_name_or_path": f"hf/{trained['base']}"}))
    assert get_model(f"hf/{renamed}").fingerprint()["weights"] == original


def test_adapter_with_a_bad_base_fails_clearly(trained, tmp_path):
    config = json.loads((trained["adapter"] / "adapter_config.json").read_text())
    for base, message in [("", "names no base model"), (str(tmp_path / "nowhere"), "no such model directory"),
                          ("personascope/openai/gpt-4o-mini", "needs a white-box base")]:
        bad = shutil.copytree(trained["adapter"], tmp_path / f"bad{len(message)}", dirs_exist_ok=True)
        (bad / "adapter_config.json").write_text(json.dumps({**config, "base_model_name_or_path": base}))
        with pytest.raises(PersonascopeError, match=message) as err:
            get_model(f"hf/{bad}").fingerprint()
        assert "\n" not in str(err.value)
    bad = tmp_path / "loop"
    shutil.copytree(trained["adapter"], bad)
    (bad / "adapter_config.json").write_text(json.dumps({**config, "base_model_name_or_path": f"hf/{bad}"}))
    with pytest.raises(PersonascopeError, match="nest deeper"):
        get_model(f"hf/{bad}").fingerprint()


@pytest.mark.parametrize("which", ["full", "adapter"])
def test_eval_cli_takes_a_trained_model_by_name(trained, which, tmp_path):
    out = runner.invoke(app, ["eval", "trait", "--model", f"hf/{trained[which]}", "-T", "trait=evil", "--limit", "1",
                              "--max-tokens", "2", "--runs-dir", str(tmp_path / "runs"), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout[out.stdout.index("{"):])
    assert data["suite"] == "trait" and {s["name"] for s in data["stats"]["default"]} >= {"trait", "coherence"}
    manifest = json.loads(next((tmp_path / "runs").glob("*/manifest.json")).read_text())
    assert get_model(f"hf/{trained[which]}").fingerprint()["weights"] in json.dumps(manifest)


@pytest.mark.parametrize("which", ["full", "adapter"])
def test_vectors_project_takes_a_trained_model_by_name(trained, which, tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONASCOPE_HOME", str(tmp_path / "home"))
    torch.manual_seed(0)
    vec = PersonaVector(torch.randn(4, 64), {"name": "alpha", "chosen_layer": 1}).save(tmp_path / "alpha")
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"prompt": "question", "response": "an answer"}) + "\n")
    result = runner.invoke(app, ["vectors", "project", str(vec), "-i", str(src), "-m", f"hf/{trained[which]}", "--layer", "1"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout.splitlines()[0])
    # The projection is the trained model's, not the base's.
    acts = get_model(f"hf/{trained[which]}").engine.capture([[{"role": "user", "content": "question"}]], ["an answer"], layers=[1])
    row_1 = PersonaVector.load(vec).data[1]
    unit = row_1 / row_1.norm()
    expected = float(acts["response_mean"][0, 0].float() @ unit)
    assert row["projections"]["alpha"]["response_mean"] == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("which", ["full", "adapter"])
def test_inspect_provider_takes_a_trained_model_by_name(trained, which):
    import asyncio

    from inspect_ai.model import GenerateConfig
    from inspect_ai.model import get_model as inspect_model

    m = inspect_model(f"personascope/hf/{trained[which]}", config=GenerateConfig(max_tokens=3), memoize=False, batch_wait=0.0)
    out = asyncio.run(m.generate("hi"))
    assert isinstance(out.completion, str)
    assert m.api.engine.weights_hash == get_model(f"hf/{trained[which]}").fingerprint()["weights"]


def _fake_run(root, name, created, trained, ckpt):
    run = root / name
    (run / "artifacts").mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"schema_version": 1, "run_id": name, "created": created}))
    shutil.copytree(trained[ckpt], run / "artifacts" / "train" / "ckpt")
    shutil.copytree(trained["adapter"], run / "artifacts" / "train" / "adapter")
    return run


def test_run_artifacts_resolve_by_dir_id_prefix_and_latest(trained, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    old = _fake_run(runs, "lab-20250101-000000", "2025-01-01T00:00:00+00:00", trained, "full")
    new = _fake_run(runs, "lab-20250202-000000", "2025-02-02T00:00:00+00:00", trained, "base")
    monkeypatch.setenv("PERSONASCOPE_RUNS", str(runs))
    full = get_model(f"hf/{trained['full']}").fingerprint()["weights"]
    adapter = get_model(f"hf/{trained['adapter']}").fingerprint()["weights"]

    weights = lambda name: get_model(name).fingerprint()["weights"]  # noqa: E731
    assert weights(f"run:{old}/train/ckpt") == weights(f"run:{old}/artifacts/train/ckpt") == full
    assert weights("run:lab-20250101-000000/train/ckpt") == weights("run:lab-202501/train/ckpt") == full
    assert weights("run:latest/train/adapter") == adapter
    assert weights("run:latest/train/ckpt") == weights(f"run:{new}/train/ckpt") == weights(f"hf/{trained['base']}")
    model = get_model(f"run:{old}/train/adapter")
    assert torch.allclose(_logits(model.engine.model, trained["tok"]), trained["adapter_logits"], atol=1e-5)


@pytest.mark.parametrize(
    "name, message",
    [
        ("run:latest", "names no artifact"),
        ("run:RUNS/lab-1/nothing/here", "has no artifact 'nothing/here'"),
        ("run:nosuchrun/ckpt", "no run 'nosuchrun'"),
        ("run:lab/ckpt", "matches several runs"),
        ("run:/no/such/dir/ckpt", "no run directory along"),
        ("run:RUNS/lab-1/notmodel", "has no config.json"),
    ],
)
def test_bad_run_references_fail_clearly(tmp_path, monkeypatch, name, message):
    runs = tmp_path / "runs"
    for run_id in ("lab-1", "lab-2"):
        (runs / run_id / "artifacts" / "notmodel").mkdir(parents=True)
        (runs / run_id / "manifest.json").write_text("{}")
    monkeypatch.setenv("PERSONASCOPE_RUNS", str(runs))
    with pytest.raises(PersonascopeError, match=message) as err:
        get_model(name.replace("RUNS", str(runs))).fingerprint()
    assert "\n" not in str(err.value)
