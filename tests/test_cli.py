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


def test_generate_records_its_settings_and_writes_a_readable_file(tiny_dir, vec, tmp_path):
    import os
    import stat

    out = tmp_path / "out.jsonl"
    result = _run("generate", "-m", f"hf/{tiny_dir}", "-o", out, "--max-tokens", "3", "--temperature", "0.7",
                  "--top-p", "0.9", "--seed", "5", "--system", "Be brief.", "--steer", f"{vec}@1:2", input="hello\n")
    assert result.exit_code == 0, result.output
    settings = json.loads(out.read_text())["generation"]
    assert settings["model"]["name"] == f"hf/{tiny_dir}" and len(settings["model"]["weights"]) == 64
    assert settings["model"]["tokenizer"] and settings["model"]["dtype"] == "float32"
    assert (settings["system"], settings["max_tokens"], settings["temperature"], settings["top_p"], settings["seed"]) == (
        "Be brief.", 3, 0.7, 0.9, 5)
    [steer] = settings["interventions"]
    assert (steer["kind"], steer["spec"]) == ("steer", f"{vec}@1:2") and len(steer["vector_digest"]) == 64
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


def test_files_written_atomically_get_the_usual_mode(tmp_path):
    import os
    import stat

    from personascope._files import atomic_write

    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "a.txt", "text")
        os.umask(0o027)
        atomic_write(tmp_path / "b.bin", b"\x00")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "b.bin").stat().st_mode) == 0o640
    assert (tmp_path / "a.txt").read_text() == "text" and not list(tmp_path.glob("*.tmp"))


def test_generate_model_args_go_to_api_models_only(tiny_dir):
    result = _run("generate", "-m", f"hf/{tiny_dir}", "-M", "timeout=5", input="hello\n")
    assert result.exit_code == 2 and "white-box" in result.stderr
    result = _run("generate", "-m", "openai/gpt-4o-mini", "-M", "timeout", input="hello\n")
    assert result.exit_code == 2 and "-M takes key=value" in result.stderr


def test_version_and_shell_completion(monkeypatch):
    from personascope import __version__

    result = _run("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"personascope {__version__}"
    # Name the shell: detecting it from the parent process fails where tests run without
    # one. typer reads this when it builds the command, so it is set before invoking.
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    shown = runner.invoke(app, ["--show-completion", "bash"], prog_name="personascope")
    assert shown.exit_code == 0, shown.output
    assert "complete -o default -F _personascope_completion personascope" in shown.stdout
    env = {"_PERSONASCOPE_COMPLETE": "complete_bash", "COMP_WORDS": "personascope stu", "COMP_CWORD": "1"}
    completed = runner.invoke(app, [], env=env, prog_name="personascope")
    assert completed.stdout.split() == ["study"]


def test_python_dash_m_runs_the_cli():
    import os
    import subprocess
    import sys
    from pathlib import Path

    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "personascope", "--version"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("personascope ")
