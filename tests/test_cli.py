"""CLI end to end with CliRunner: tiny local checkpoints, and user errors as one line."""

import json

import pytest
import torch
from typer.testing import CliRunner

from personascope.cli import app
from personascope.vectors import PersonaVector

runner = CliRunner()


@pytest.fixture(scope="module")
def vec(tmp_path_factory):
    path = tmp_path_factory.mktemp("vec") / "v"
    torch.manual_seed(0)
    PersonaVector(torch.randn(4, 64) * 20).save(path)
    return path


def _run(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def test_models_list_json():
    result = _run("models", "list", "--json")
    assert result.exit_code == 0
    names = [row["name"] for row in json.loads(result.stdout)]
    assert "smollm2" in names


def test_models_show_json_of_a_local_checkpoint(tiny_dir):
    result = _run("models", "show", f"hf/{tiny_dir}", "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert (info["layers"], info["hidden_size"], info["dtype"], info["chat_template"]) == (4, 64, "float32", True)
    assert info["architecture"] == "LlamaForCausalLM"


def test_generate_from_stdin_plain_and_jsonl(tiny_dir, tmp_path):
    result = _run("generate", "--model", f"hf/{tiny_dir}", "--max-tokens", "4", input="hello\nhow are you?\n")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["prompt"] for r in rows] == ["hello", "how are you?"]
    assert all("response" in r and r["finish_reason"] in ("stop", "length") for r in rows)

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": 7, "messages": [{"role": "user", "content": "hi"}]}) + "\n")
    out = tmp_path / "out.jsonl"
    result = _run("generate", "-m", f"hf/{tiny_dir}", "-i", src, "-o", out, "--max-tokens", "3")
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["id"] == 7


def test_generate_with_steering_changes_output(tiny_dir, vec):
    base = _run("generate", "-m", f"hf/{tiny_dir}", "--max-tokens", "6", input="hello\n")
    steered = _run("generate", "-m", f"hf/{tiny_dir}", "--max-tokens", "6", "--steer", f"{vec}@1:3", input="hello\n")
    zero = _run("generate", "-m", f"hf/{tiny_dir}", "--max-tokens", "6", "--steer", f"{vec}@1:0", input="hello\n")
    assert base.exit_code == steered.exit_code == zero.exit_code == 0
    assert json.loads(base.stdout)["response"] != json.loads(steered.stdout)["response"]
    assert json.loads(base.stdout)["response"] == json.loads(zero.stdout)["response"]


@pytest.mark.parametrize(
    "args,message",
    [
        (["models", "show", "gpt5"], "unknown model 'gpt5'"),
        (["generate", "-m", "hf/./no/such/dir"], "no such model directory"),
        (["generate", "-i", "/no/such/prompts.jsonl"], "no such prompts file"),
        (["generate", "--steer", "VEC@1"], "malformed steer argument"),
        (["generate", "--steer", "VEC@99:1"], "layer 99 is out of range"),
        (["generate", "--steer", "/no/vec@1:1"], "no vector at /no/vec"),
        (["generate", "--steer", "WIDE@1:1"], "hidden size is 64"),
        (["generate", "-m", "openai/gpt-4o-mini", "--steer", "VEC@1:1"], "black-box"),
    ],
)
def test_bad_input_gives_a_one_line_error(tiny_dir, vec, tmp_path, args, message):
    PersonaVector(torch.randn(4, 32)).save(tmp_path / "wide")
    args = [a.replace("VEC", str(vec)).replace("WIDE", str(tmp_path / "wide")) for a in args]
    if args[0] == "generate" and "-m" not in args:
        args = [*args, "-m", f"hf/{tiny_dir}"]
    result = _run(*args, input="hello\n")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_bad_jsonl_names_the_line(tiny_dir, tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_text('{"prompt": "ok"}\n{not json}\n')
    result = _run("generate", "-m", f"hf/{tiny_dir}", "-i", src)
    assert result.exit_code == 2 and f"{src}:2" in result.stderr


def test_chat_keeps_history_and_exits(tiny_dir):
    result = _run("chat", "-m", f"hf/{tiny_dir}", "--max-tokens", "3", "--temperature", "0", input="hello\nagain\n/reset\n/exit\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("model>") == 2


def test_chat_rejects_bad_specs_before_the_first_turn(tiny_dir):
    result = _run("chat", "-m", f"hf/{tiny_dir}", "--steer", "nope", input="hello\n")
    assert result.exit_code == 2 and "malformed steer" in result.stderr
    assert "model>" not in result.stdout
