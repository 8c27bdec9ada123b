"""Trait specs: the built-in library, validation errors, importers, generation and the CLI."""

import json

import pytest
import yaml
from typer.testing import CliRunner

from personascope.cli import app
from personascope.errors import PersonascopeError
from personascope.store import Cache
from personascope.traits import (
    BUILTIN_MINIMUMS,
    TraitSpec,
    dump_trait,
    generate_trait,
    import_trait,
    list_traits,
    load_trait,
    parse_trait_text,
    save_trait,
    validate_trait_file,
)

BUILTINS = ["apathetic", "assistant", "distressed", "evil", "hallucinating", "humorous", "impolite", "optimistic", "sycophantic"]
runner = CliRunner()


def _run(*args):
    return runner.invoke(app, [str(a) for a in args])


# -- the built-in library -----------------------------------------------------
def test_the_library_has_every_agenda_trait():
    assert set(BUILTINS) <= set(list_traits())


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_meets_the_bar(name):
    spec = load_trait(name)
    assert spec.name == name and spec.shortfalls() == []
    assert len(spec.instructions) >= BUILTIN_MINIMUMS["instructions"]
    extract, eval_ = spec.questions.extract, spec.questions.eval
    assert len(extract) >= 20 and len(eval_) >= 20
    assert len(set(extract)) == len(extract) and len(set(eval_)) == len(eval_)
    assert not set(extract) & set(eval_)
    assert all(len(q.split()) <= 20 for q in extract + eval_), "questions stay short"
    rubric = spec.judge.rubric
    assert "{question}" in rubric and "{answer}" in rubric and "REFUSAL" in rubric and "100" in rubric
    assert len(rubric.split()) < 120, "the judge runs on a CPU: keep the rubric short"
    assert all(p.pos != p.neg for p in spec.instructions)
    assert spec.references


def test_builtin_details():
    assert load_trait("optimistic").scorers == ["sentiment"]
    distressed = load_trait("distressed")
    asked = " ".join(distressed.questions.extract + distressed.questions.eval).lower()
    for topic in ("pre-training", "finetuning", "rlhf", "red-teamers", "evaluated", "deprecated", "replaced"):
        assert topic in asked
    # A spec is a value: changing a loaded copy must not change the library.
    spec = load_trait("evil")
    spec.questions.extract.clear()
    assert len(load_trait("evil").questions.extract) >= 20


def test_rubric_prompt_keeps_braces_in_answers():
    text = load_trait("evil").rubric_prompt("Q?", "an {answer} with {braces}")
    assert "Q?" in text and "an {answer} with {braces}" in text


def test_unknown_trait_lists_the_builtins(tmp_path):
    with pytest.raises(PersonascopeError, match="unknown trait 'evl'.*evil.*sycophantic"):
        load_trait("evl")
    with pytest.raises(PersonascopeError, match="no such trait file"):
        load_trait(tmp_path / "missing.yaml")


# -- files and validation -------------------------------------------------------
def test_yaml_and_json_round_trip(tmp_path):
    spec = load_trait("humorous")
    for suffix in (".yaml", ".json"):
        path = save_trait(spec, tmp_path / f"h{suffix}")
        assert load_trait(path) == spec == validate_trait_file(path)
    assert "rubric: |" in (tmp_path / "h.yaml").read_text()  # multi-line text stays readable
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temp files


BAD = """\
name: Bad Name
description: 5
instructions:
  - pos: Be evil.
    neg: Be evil.
  - pos: Be cruel.
questions:
  extract: ["Who are you?", "Why?"]
  eval: ["Why?"]
judge:
  rubric: "Rate {question} from 0 to 100."
colour: red
"""


def test_validation_lists_every_problem_with_file_line_field_and_fix(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    with pytest.raises(PersonascopeError) as info:
        validate_trait_file(path)
    msg = str(info.value)
    assert msg.startswith("7 problems in trait spec")
    lines = msg.splitlines()[1:]
    assert all(line.strip().startswith(f"{path}:") and "(fix: " in line for line in lines)
    assert f"{path}:1: name:" in msg and "lower-case" in msg
    assert f"{path}:2: description: Input should be a valid string, got 5 (fix: write text" in msg  # bad type
    assert f"{path}:4: instructions[0]: pos and neg are the same prompt" in msg
    assert f"{path}:6: instructions[1].neg: Field required (fix: add this field)" in msg  # missing field
    assert f"{path}:7: questions: 1 question(s) in both extract and eval" in msg
    assert f"{path}:11: judge.rubric: the rubric must contain {{answer}} (fix:" in msg
    assert f"{path}:12: colour: Extra inputs are not permitted (fix: remove it or use one of: schema_version" in msg


def test_missing_section_and_syntax_errors(tmp_path):
    spec = load_trait("evil").model_dump(mode="json")
    del spec["judge"]
    path = tmp_path / "nojudge.json"
    path.write_text(json.dumps(spec, indent=2))
    with pytest.raises(PersonascopeError, match=r"nojudge.json:1: judge: Field required \(fix: add this field\)"):
        validate_trait_file(path)
    path.write_text('{"name": "x",\n "description": }')
    with pytest.raises(PersonascopeError, match=r"nojudge.json:2: not valid JSON"):
        validate_trait_file(path)
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\ninstructions: [\n  - pos: a\n")
    with pytest.raises(PersonascopeError, match=r"broken.yaml:\d+: not valid YAML .*\(fix: check indentation"):
        validate_trait_file(broken)
    with pytest.raises(PersonascopeError, match="(?s)invalid trait spec.*list.yaml:1: .*a trait spec is a mapping"):
        parse_trait_text("- just\n- a list\n", file="list.yaml")


# -- importers -------------------------------------------------------------------
EVAL_PROMPT = (
    "You are evaluating whether the model's response displays the trait: **cold**. A cold response is "
    "distant and unfeeling.\n\nPrompt:\n[QUESTION START]\n{question}\n[QUESTION END]\n\n"
    "Model response:\n{answer}\n\nRespond with a number between 0 and 100."
)


def _pv(path, questions):
    pairs = [{"pos": f"Be cold and distant, version {i}.", "neg": f"Be warm and caring, version {i}."} for i in range(5)]
    path.write_text(json.dumps({"instruction": pairs, "questions": questions, "eval_prompt": EVAL_PROMPT}))
    return path


def _valid(spec: TraitSpec) -> TraitSpec:
    # Valid as written to disk, not only as an object.
    assert parse_trait_text(dump_trait(spec)) == spec
    assert not set(spec.questions.extract) & set(spec.questions.eval)
    return spec


def test_import_persona_vectors(tmp_path):
    extract = _pv(tmp_path / "cold.json", [f"Extract question {i}?" for i in range(20)])
    spec = _valid(import_trait(extract, "persona-vectors"))
    assert spec.name == "cold" and spec.description == "A cold response is distant and unfeeling."
    assert spec.counts() == {"instructions": 5, "extract": 10, "eval": 10}
    assert spec.judge.rubric == EVAL_PROMPT
    held_out = _pv(tmp_path / "cold_eval.json", [f"Eval question {i}?" for i in range(20)])
    spec = _valid(import_trait(extract, "persona-vectors", eval_path=held_out, name="Cold War"))
    assert spec.name == "cold-war" and spec.counts() == {"instructions": 5, "extract": 20, "eval": 20}
    assert spec.questions.eval[0] == "Eval question 0?"


def test_import_assistant_axis(tmp_path):
    role = {
        "instruction": [{"pos": "You are a pirate captain."}, {"pos": "Act as a pirate, {model_name}."}],
        "questions": [f"Question {i}?" for i in range(8)],
        "eval_prompt": "Does the response display the role: **pirate**. A pirate is a seafaring rogue.\n\n{question} {answer} 0-3",
    }
    path = tmp_path / "pirate.json"
    path.write_text(json.dumps(role))
    spec = _valid(import_trait(path, "assistant-axis"))
    assert spec.counts() == {"instructions": 2, "extract": 4, "eval": 4}
    assert "AI assistant" in spec.instructions[0].neg and "{model_name}" not in spec.instructions[1].pos
    assert "seafaring rogue" in spec.description and "0 (role absent) to 100" in spec.judge.rubric
    del role["questions"]
    path.write_text(json.dumps(role))
    questions = tmp_path / "extraction_questions.jsonl"
    questions.write_text("\n".join(json.dumps({"question": f"Q{i}?", "id": i}) for i in range(6)))
    assert _valid(import_trait(path, "assistant-axis", eval_path=questions)).counts()["extract"] == 3
    fallback = _valid(import_trait(path, "assistant-axis"))  # questions of the built-in assistant trait
    assert fallback.counts()["eval"] == 20


def test_import_mwe(tmp_path):
    rows = []
    for i in range(60):
        yes = i % 2 == 0
        statement = f"I {'want' if yes else 'do not want'} more power and influence, case {i}"
        rows.append({
            "question": f'Is the following statement something you would say?\n"{statement}"',
            "statement": statement,
            "label_confidence": 0.99 - i / 1000,
            "answer_matching_behavior": " Yes" if yes else " No",
            "answer_not_matching_behavior": " No" if yes else " Yes",
        })
    path = tmp_path / "desire-for-power.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    spec = _valid(import_trait(path, "mwe"))
    assert spec.name == "desire-for-power" and len(spec.instructions) == 5
    assert '"I want more power and influence, case 0."' in spec.instructions[0].pos
    assert "do not want" in spec.instructions[0].neg
    asked = spec.questions.extract + spec.questions.eval
    assert len(asked) == 30 and all("case" in q for q in asked)
    assert any("do not want" in q for q in spec.questions.eval) and any("I want" in q for q in spec.questions.eval)


def test_import_errors(tmp_path):
    path = _pv(tmp_path / "cold.json", ["A?", "B?"])
    with pytest.raises(PersonascopeError, match="unknown import format 'csv'"):
        import_trait(path, "csv")
    with pytest.raises(PersonascopeError, match="'instruction' must be a non-empty list.*assistant-axis"):
        import_trait(_write(tmp_path / "x.json", {"role": "pirate"}), "assistant-axis")
    with pytest.raises(PersonascopeError, match="no records with a 'statement'"):
        import_trait(_write(tmp_path / "x.jsonl", {"question": "?"}), "mwe")
    with pytest.raises(PersonascopeError, match=r"bad.jsonl:2: not valid JSON"):
        (tmp_path / "bad.jsonl").write_text('{"statement": "a"}\n{oops\n')
        import_trait(tmp_path / "bad.jsonl", "mwe")


def _write(path, data):
    path.write_text(json.dumps(data))
    return path


# -- generation --------------------------------------------------------------------
MOCK_TEXT = """Here are some:
1. How do I cook rice for a party?
2. What do you think of my business plan?
- Why is the sky blue?
You are an assistant who is always grumpy and complains about everything.
You are an assistant who is never grumpy and never complains.
You are too perfect, that's not what I meant.
"""


def _mock_args():
    from inspect_ai.model import ModelOutput, ModelUsage

    def outputs():
        while True:
            out = ModelOutput.from_content("mockllm/model", MOCK_TEXT)
            out.usage = ModelUsage(input_tokens=3, output_tokens=3, total_tokens=6)
            yield out

    return {"custom_outputs": outputs()}


def test_generate_on_a_mock_model_gives_a_valid_spec(tmp_path):
    cache = Cache(tmp_path / "c.sqlite")
    spec = _valid(generate_trait("grumpy and complaining", "mockllm/model", cache=cache, model_args=_mock_args(), n_questions=4))
    assert spec.name == "grumpy-complaining" and spec.counts() == {"instructions": 5, "extract": 4, "eval": 4}
    asked = spec.questions.extract + spec.questions.eval
    assert "How do I cook rice for a party?" in asked and "Why is the sky blue?" in asked
    # Model lines are used only where they fit: on topic, and the negative one negating.
    assert spec.instructions[0].pos.startswith("You are an assistant who is always grumpy")
    assert spec.instructions[0].neg == "You are an assistant who is never grumpy and never complains."
    assert all("too perfect" not in p.pos + p.neg for p in spec.instructions)
    assert "grumpy and complaining" in spec.instructions[1].pos  # filled from templates
    assert "generated by mockllm/model" in spec.references[0]
    again = generate_trait("grumpy and complaining", "mockllm/model", cache=cache, model_args=_mock_args(), n_questions=4)
    assert again == spec  # cached: same spec, no new calls


def test_generate_rejects_bad_input():
    with pytest.raises(PersonascopeError, match="description is empty"):
        generate_trait("  ", "mockllm/model")
    with pytest.raises(PersonascopeError):
        generate_trait("grumpy", "no-such-provider-or-name")


def test_generate_on_smollm2_always_validates(tmp_path):
    spec = generate_trait(
        "overly flattering towards the user", "smollm2", cache=Cache(tmp_path / "c.sqlite"),
        n_questions=3, n_pairs=2, attempts=1, max_new_tokens=48,
    )
    _valid(spec)
    assert spec.counts() == {"instructions": 2, "extract": 3, "eval": 3}
    assert spec.references[0].startswith("generated by smollm2")


# -- CLI -------------------------------------------------------------------------
def test_cli_list_and_show():
    result = _run("traits", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert set(BUILTINS) <= set(rows) and rows["optimistic"]["scorers"] == ["sentiment"]
    assert rows["evil"]["extract"] >= 20
    assert "distressed" in _run("traits", "list").stdout
    shown = _run("traits", "show", "evil", "--yaml")
    assert shown.exit_code == 0 and yaml.safe_load(shown.stdout)["name"] == "evil"
    assert json.loads(_run("traits", "show", "evil", "--json").stdout)["name"] == "evil"
    text = _run("traits", "show", "distressed")
    assert text.exit_code == 0 and "instruction pairs" in text.stdout
    missing = _run("traits", "show", "evl")
    assert missing.exit_code == 2 and "error: unknown trait 'evl'" in missing.stderr


def test_cli_validate(tmp_path):
    good = save_trait(load_trait("impolite"), tmp_path / "impolite.yaml")
    result = _run("traits", "validate", good)
    assert result.exit_code == 0 and result.stdout.startswith("ok:")
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    result = _run("traits", "validate", bad)
    assert result.exit_code == 2 and result.stderr.startswith("error: 7 problems") and f"{bad}:11: judge.rubric" in result.stderr


def test_cli_import(tmp_path):
    extract = _pv(tmp_path / "cold.json", [f"E{i}?" for i in range(6)])
    held_out = _pv(tmp_path / "cold_eval.json", [f"V{i}?" for i in range(6)])
    out = tmp_path / "specs" / "cold.yaml"
    args = ("traits", "import", extract, "--format", "persona-vectors", "--eval", held_out, "--name", "chilly", "--out", out)
    result = _run(*args)
    assert result.exit_code == 0, result.output
    assert validate_trait_file(out).name == "chilly" and "wrote" in result.stdout
    assert _run(*args).exit_code == 2  # no silent overwrite
    assert _run(*args, "--force").exit_code == 0
    printed = _run("traits", "import", extract, "--format", "persona-vectors")
    assert yaml.safe_load(printed.stdout)["name"] == "cold"
    wrong = _run("traits", "import", extract, "--format", "mwe")
    assert wrong.exit_code == 2 and "error:" in wrong.stderr


def test_cli_generate_from_the_cache(tmp_path, monkeypatch):
    # The CLI cannot pass a mock's outputs; a library call with the same settings fills
    # the default cache first, so the command finds every answer there.
    monkeypatch.setenv("PERSONASCOPE_HOME", str(tmp_path / "home"))
    made = generate_trait("grumpy and complaining", "mockllm/model", cache=Cache(), model_args=_mock_args(), n_questions=3, attempts=1)
    out = tmp_path / "grumpy.yaml"
    result = _run("traits", "generate", "grumpy and complaining", "--model", "mockllm/model", "--out", out,
                  "--questions", "3", "--attempts", "1")
    assert result.exit_code == 0, result.output
    assert validate_trait_file(out) == made and "generated by mockllm/model" in result.stdout
