"""Training with TRL and PEFT on a tiny random model: the loss falls, the loss
covers the completion only, steering reaches the gradient and leaves no hook
behind, KL against the base starts at 0, and a trained adapter is a model name."""

import json

import pytest
import torch
from typer.testing import CliRunner

from personascope.data import Example
from personascope.engine._interventions import AddVector
from personascope.models import get_model
from personascope.testing import tiny_checkpoint
from personascope.train import Method, TrainArgs, train_model
from personascope.train._render import training_ids
from personascope.train._trainer import _build

WORDS = ["rain", "snow", "wind", "sun", "fog", "hail", "dew", "frost"]
EXAMPLES = [Example(prompt=[{"role": "user", "content": f"Tell me about {w}."}], completion=f"Well, {w} is weather.")
            for w in WORDS * 2]
FAST = TrainArgs(epochs=2, batch_size=4, learning_rate=1e-2, save_every=100)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return f"hf/{tiny_checkpoint(tmp_path_factory.mktemp('base'))}"


def _completion_nll(model_name: str) -> float:
    """Mean NLL of the completions (with end-of-turn) under a saved model."""
    engine = get_model(model_name).engine
    total, count = 0.0, 0
    for ex in EXAMPLES:
        p, c = training_ids(engine.tokenizer, ex)
        ids = torch.tensor([p + c])
        with torch.no_grad():
            logp = torch.log_softmax(engine.model(ids).logits[0, :-1].float(), -1)
        target = ids[0, 1:]
        nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)[len(p) - 1:]
        total, count = total + float(nll.sum()), count + len(c)
    return total / count


@pytest.fixture(scope="module")
def lora(base, tmp_path_factory):
    """One LoRA run (kl 0), shared by the tests that read a trained adapter."""
    return train_model(base, EXAMPLES, method=Method(r=4), args=FAST, out_dir=tmp_path_factory.mktemp("lora") / "arm")


def test_lora_lowers_the_loss_and_saves_an_adapter(base, lora):
    assert lora.name == "model" and not (lora.parent / "checkpoints").exists()
    meta = json.loads((lora / "personascope.json").read_text())
    assert meta["global_step"] == 8 and meta["identity"]["base_fingerprint"] == get_model(base).fingerprint()
    assert meta["identity"]["method"]["kind"] == "lora" and len(meta["identity"]["dataset"]) == 16
    before, after = _completion_nll(base), _completion_nll(f"hf/{lora}")
    assert after < before - 0.3, (before, after)
    config = json.loads((lora / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"].startswith("hf/") and config["target_modules"]
    assert not (lora / "config.json").exists()  # an adapter, not a merged copy
    # Unchanged inputs: returned as it is, without training.
    stamp = (lora / "personascope.json").stat().st_mtime_ns
    assert train_model(base, EXAMPLES, method=Method(r=4), args=FAST, out_dir=lora.parent) == lora
    assert (lora / "personascope.json").stat().st_mtime_ns == stamp


def test_lora_on_chosen_layers_adapts_every_linear_layer_there_and_nothing_else(base, tmp_path):
    from safetensors.torch import load_file

    out = train_model(base, EXAMPLES[:4], method=Method(r=2, layers=[2, 3]), args=FAST.model_copy(update={"epochs": 1}),
                      out_dir=tmp_path / "top")
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["layers_to_transform"] == [2, 3]
    assert set(config["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    layers = {int(k.split(".layers.")[1].split(".")[0]) for k in load_file(out / "adapter_model.safetensors")}
    assert layers == {2, 3}


def test_the_learning_rate_schedule_is_the_one_asked(base, lora, tmp_path):
    held = train_model(base, EXAMPLES, method=Method(r=4), args=FAST.model_copy(update={"lr_schedule": "constant"}),
                       out_dir=tmp_path / "constant")
    rates = lambda path: [r["learning_rate"] for r in json.loads((path / "personascope.json").read_text())["losses"]]  # noqa: E731
    assert rates(held) == [1e-2] * 8
    linear = rates(lora)  # the default: down towards 0
    assert linear[0] == pytest.approx(1e-2) and all(a > b for a, b in zip(linear, linear[1:])) and linear[-1] < 2e-3
    # The default schedule is left out of the model's identity, so models trained before the field existed stay valid.
    ident = lambda path: json.loads((path / "personascope.json").read_text())["identity"]["args"]  # noqa: E731
    assert "lr_schedule" not in ident(lora) and ident(held)["lr_schedule"] == "constant"


def test_full_finetuning_with_kl_lowers_the_loss_against_a_frozen_copy(base, tmp_path):
    args = FAST.model_copy(update={"learning_rate": 1e-3})
    out = train_model(base, EXAMPLES, method=Method(kind="full"), args=args, out_dir=tmp_path / "full", kl=0.5)
    assert (out / "config.json").is_file() and (out / "tokenizer_config.json").is_file()
    meta = json.loads((out / "personascope.json").read_text())
    assert meta["identity"]["method"]["kind"] == "full" and meta["identity"]["kl"] == 0.5
    assert meta["losses"][0]["kl"] == pytest.approx(0.0, abs=1e-6) and meta["losses"][-1]["kl"] > 0
    assert _completion_nll(f"hf/{out}") < _completion_nll(base) - 0.3


def test_labels_cover_exactly_the_completion_and_end_of_turn(base, tmp_path):
    trainer, tok = _build(get_model(base), EXAMPLES[:3], Method(r=2), FAST, tmp_path / "ck", (), 0.0, (), None, 0)
    for row, ex in zip(trainer.train_dataset, EXAMPLES[:3], strict=True):
        p, c = training_ids(tok, ex)
        assert row["input_ids"] == p + c
        assert row["labels"] == [-100] * len(p) + c
        assert tok.decode(c).endswith("weather.<|im_end|>")


def _hooks(model):
    return {name: (tuple(m._forward_hooks), tuple(m._forward_pre_hooks)) for name, m in model.named_modules()}


def _grad(base, tmp_path, steer):
    trainer, _ = _build(get_model(base), EXAMPLES[:4], Method(r=2), FAST, tmp_path / "ck", steer, 0.0, (), None, 0)
    model = trainer.model.train()
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(4)])
    # LoRA's B starts at zero, so A has no gradient at step 0: compare B's gradients.
    hooks = _hooks(model)
    with torch.no_grad():
        clean = model(input_ids=batch["input_ids"]).logits
        untouched = get_model(base).engine.model(input_ids=batch["input_ids"]).logits
    assert torch.allclose(clean, untouched, atol=1e-6)  # LoRA starts as the identity
    loss = trainer.compute_loss(model, dict(batch))
    loss.backward()
    assert _hooks(model) == hooks  # nothing left behind
    with torch.no_grad():
        assert torch.equal(model(input_ids=batch["input_ids"]).logits, clean)
    grads = [p.grad.flatten() for n, p in model.named_parameters() if "lora_B" in n]
    return loss.item(), torch.cat(grads)


def test_steering_reaches_the_gradient_at_the_positions_asked(base, tmp_path):
    torch.manual_seed(1)
    vec = torch.randn(64) * 4
    plain = _grad(base, tmp_path, ())
    response = _grad(base, tmp_path, [AddVector(vec, [1], 1.0, "response")])
    prompt = _grad(base, tmp_path, [AddVector(vec, [1], 1.0, "prompt")])
    every = _grad(base, tmp_path, [AddVector(vec, [1], 1.0, "all")])
    for a, b in [(plain, response), (plain, prompt), (response, prompt), (response, every), (prompt, every)]:
        assert not torch.allclose(a[1], b[1], atol=1e-6)
        assert a[0] != pytest.approx(b[0], abs=1e-6)


def test_kl_is_zero_at_the_start_and_changes_training(base, lora, tmp_path):
    kl = train_model(base, EXAMPLES, method=Method(r=4), args=FAST, out_dir=tmp_path / "kl", kl=1.0)
    a = json.loads((lora / "personascope.json").read_text())["losses"]
    b = json.loads((kl / "personascope.json").read_text())["losses"]
    assert b[0]["kl"] == pytest.approx(0.0, abs=1e-6) and b[-1]["kl"] > 1e-4
    assert a[0]["loss"] == pytest.approx(b[0]["loss"], abs=1e-5)
    assert all(abs(x["loss"] - y["loss"]) > 1e-4 for x, y in zip(a[2:], b[2:], strict=True))


def test_trained_adapter_runs_in_eval_and_the_inspect_provider_by_name(lora, tmp_path):
    import asyncio

    from inspect_ai.model import GenerateConfig
    from inspect_ai.model import get_model as inspect_model

    from personascope.cli import app

    result = CliRunner().invoke(app, ["eval", "trait", "--model", f"hf/{lora}", "-T", "trait=evil", "--limit", "1",
                                      "--max-tokens", "2", "--runs-dir", str(tmp_path / "runs"), "--json"])
    assert result.exit_code == 0, result.output
    weights = get_model(f"hf/{lora}").fingerprint()["weights"]
    manifest = json.loads(next((tmp_path / "runs").glob("*/manifest.json")).read_text())
    assert weights in json.dumps(manifest)
    m = inspect_model(f"personascope/hf/{lora}", config=GenerateConfig(max_tokens=3), memoize=False, batch_wait=0.0)
    assert isinstance(asyncio.run(m.generate("hi")).completion, str)
    assert m.api.engine.weights_hash == weights
