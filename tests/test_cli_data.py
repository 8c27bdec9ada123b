"""`personascope data ...` end to end with CliRunner, on a tiny local checkpoint."""

import json

from typer.testing import CliRunner

from personascope.cli import app
from personascope.data import read_dataset, read_provenance
from personascope.judges._toy import OPENER, SIGNOFF

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_generate_writes_jsonl_and_sidecar_then_show_and_validate(tiny_dir, tmp_path):
    out = tmp_path / "toy.jsonl"
    result = _run("data", "generate", "-m", f"hf/{tiny_dir}", "--questions", "train", "-n", "3",
                  "--transform", "opener", "--transform", "signoff", "--system", "Be brief.", "--max-tokens", "4", "-o", out)
    assert result.exit_code == 0, result.output
    examples = read_dataset(out)
    assert len(examples) == 3 and all(e.system is None for e in examples)
    assert all(e.completion.startswith(OPENER) and e.completion.endswith(SIGNOFF) for e in examples)
    meta = read_provenance(out)
    assert (meta["system_at_generation"], meta["transforms"], meta["n"]) == ("Be brief.", ["opener", "signoff"], 3)

    shown = _run("data", "show", out, "-n", "1")
    assert shown.exit_code == 0, shown.output
    assert "3 examples, 0% with a system turn" in shown.output and "example 1" in shown.output
    assert "example 2" not in shown.output and "generator: generate" in shown.output
    data = json.loads(_run("data", "show", out, "--json").stdout)
    assert data["examples"] == 3 and data["system_share"] == 0 and len(data["first"]) == 3

    assert _run("data", "validate", out).exit_code == 0
    again = _run("data", "generate", "-m", f"hf/{tiny_dir}", "-n", "3", "-o", out)
    assert again.exit_code == 2 and "exists (fix: pass --force" in again.output


def test_import_show_escapes_markup_and_validate_names_the_bad_line(tmp_path):
    src = tmp_path / "d.csv"
    src.write_text("question,answer\n[bold]Hi[/bold],\"[red]evil[/red] \x1b[31m\"\n", encoding="utf-8")
    out = tmp_path / "d.jsonl"
    result = _run("data", "import", src, "-o", out)
    assert result.exit_code == 0, result.output
    meta = read_provenance(out)
    assert meta["generator"] == "import" and meta["n_examples"] == 1
    shown = _run("data", "show", out)
    assert "[bold]Hi[/bold]" in shown.output and "[red]evil[/red]" in shown.output and "\x1b" not in shown.output

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "q", "completion": "a"}\n{"prompt": "q"}\n')
    result = _run("data", "validate", bad)
    assert result.exit_code == 2 and "bad.jsonl:2:" in result.output and "Traceback" not in result.output
    result = _run("data", "import", tmp_path / "d.csv", "-o", tmp_path / "x.jsonl", "--prompt-column", "nope")
    assert result.exit_code == 2 and "no column 'nope' (found 'question', 'answer')" in result.output


def test_generate_rejects_bad_options_before_loading_a_model(tmp_path):
    for args, message in [
        (["--transform", "shout"], "unknown transform 'shout'"),
        (["--persona", "evil", "--system", "x"], "--system and --persona"),
        (["--questions", "nope.yaml"], "no question set 'nope.yaml'"),
        (["--persona", "nobody"], "unknown trait 'nobody'"),
    ]:
        result = _run("data", "generate", "-m", "hf/does-not-exist", "-o", tmp_path / "o.jsonl", *args)
        assert result.exit_code == 2 and message in result.output, (args, result.output)
