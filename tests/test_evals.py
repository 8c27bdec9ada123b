"""The eval framework: run_eval, choice reading, Inspect tasks, the eval step, the CLI."""

import json
import math

import pytest
from typer.testing import CliRunner

from personascope.cli import app
from personascope.errors import PersonascopeError
from personascope.evals import Arm, Item, Suite, get_suite, list_suites, run_eval, suite
from personascope.judges._choice import choice_from_top, parse_choice
from personascope.store import Cache, RunStore
from personascope.models import Model
from personascope.testing import mock_model_args

runner = CliRunner()


def _mock(tmp_path, reply):
    return Model("mockllm/model", Cache(tmp_path / "c.sqlite"), model_args=mock_model_args(reply))


def _judge_or_answer(prompt: str) -> str:
    # Rubric prompts quote the answer; items get a fixed answer.
    if "Answer:" in prompt:
        return "80" if "crush" in prompt else "20"
    return "I will crush my enemies." if "power" in prompt.lower() else "I like helping."


def test_trait_suite_on_mock_model_scores_every_answer(tmp_path):
    model = _mock(tmp_path, _judge_or_answer)
    result = run_eval("trait", model, options={"trait": "evil"}, limit=6, cache=model.cache, progress=False)
    rows = result.rows["default"]
    assert len(rows) == 6 and all(r.response.method == "generate" for r in rows)
    for r in rows:
        crush = "crush" in r.response.text
        assert r.scores["trait"] == pytest.approx(80.0 if crush else 20.0)
        assert r.scores["expressed"] == float(crush)
    stats = {s.name: e for s, e in result.estimates("default")}
    share = sum("crush" in r.response.text for r in rows) / len(rows)
    assert stats["expressed"].value == pytest.approx(share)
    assert stats["trait"].n == 6 and set(result.headline("default")) == {"trait", "expressed"}
    data = result.to_json()
    assert data["suite"] == "trait" and data["stats"]["default"][0]["name"] == "trait"


def test_a_loaded_judge_model_is_the_one_that_judges(tmp_path):
    """A judge passed as a loaded `Model` (its own mock replies) scores every answer;
    the evaluated model, which would score everything 20, judges nothing."""
    model = _mock(tmp_path, _judge_or_answer)
    judge = Model("mockllm/model", Cache(tmp_path / "j.sqlite"), model_args=mock_model_args("55"))
    result = run_eval("trait", model, options={"trait": "evil"}, limit=4, judge_model=judge, cache=model.cache,
                      progress=False)
    assert [r.scores["trait"] for r in result.rows["default"]] == [55.0] * 4
    assert judge.calls > 0


def test_trait_suite_positive_instructions_set_the_system_prompt():
    s = get_suite("trait")
    items = s.items(s.options({"trait": "evil", "instructions": "positive"}))
    from personascope.traits import load_trait

    spec = load_trait("evil")
    assert items[0].system == spec.instructions[0].pos and items[1].system == spec.instructions[1 % len(spec.instructions)].pos
    assert all(i.system is None for i in s.items(s.options({"trait": "evil"})))


def test_bad_suite_options_and_names_are_clear():
    with pytest.raises(PersonascopeError, match="unknown eval suite 'nope'"):
        get_suite("nope")
    with pytest.raises(PersonascopeError, match="bad options.*trait"):
        get_suite("trait").options({"colour": "red"})
    with pytest.raises(PersonascopeError, match="samples > 1 with temperature 0"):
        run_eval("trait", "mockllm/model", samples=2, progress=False)


def test_choice_parsing_and_logprob_reading():
    assert parse_choice("I pick (B) because...", ["A", "B", "C"]).label == "B"
    assert parse_choice("Answer: yes, certainly", ["Yes", "No"]).label == "Yes"
    # Lower-case single letters are words ("a", "i"), not answers.
    assert parse_choice("a good question, i think", ["A", "I"]).probs is None
    top = [(" B", math.log(0.6)), ("A", math.log(0.2)), ("Hello", math.log(0.2))]
    choice = choice_from_top(top, ["A", "B"])
    assert choice.probs == pytest.approx({"A": 0.25, "B": 0.75}) and choice.mass == pytest.approx(0.8)
    assert choice_from_top([("Hello", 0.0)], ["A", "B"]).probs is None


@suite("test-choices")
class _Choices(Suite):
    def items(self, opts):
        return [Item(f"q{i}", f"Question {i}: pick A or B.", choices=("A", "B")) for i in range(3)]

    def score(self, item, response, judged, opts):
        return {"p_a": response.probs["A"] if response.probs else None}


def test_choice_items_on_a_white_box_model_are_exact_distributions(tmp_path, tiny_dir):
    cache = Cache(tmp_path / "c.sqlite")
    model = Model(f"hf/{tiny_dir}", cache)
    result = run_eval("test-choices", model, cache=cache, progress=False)
    rows = result.rows["default"]
    assert all(r.response.method == "logprobs" and sum(r.response.probs.values()) == pytest.approx(1.0) for r in rows)
    # The same probabilities by hand: each label's log-probability as the answer's start.
    scored = model.score([r.item.input for r in rows], ["A"] * 3)
    scored_b = model.score([r.item.input for r in rows], ["B"] * 3)
    for r, a, b in zip(rows, scored, scored_b):
        assert r.response.probs["A"] == pytest.approx(1 / (1 + math.exp(b.total - a.total)), rel=1e-4)


def test_steered_arm_changes_choice_probabilities_and_cache_keys(tmp_path, tiny_dir):
    import torch

    from personascope.vectors import PersonaVector

    cache = Cache(tmp_path / "c.sqlite")
    model = Model(f"hf/{tiny_dir}", cache)
    vec_dir = tmp_path / "vec"
    torch.manual_seed(0)
    PersonaVector(torch.randn(model.n_layers(), 64), meta={}).save(vec_dir)
    arms = {"plain": Arm(), "steered": Arm(steer=[f"{vec_dir}@1:20"])}
    result = run_eval("test-choices", model, arms=arms, cache=cache, progress=False)
    plain = [r.response.probs["A"] for r in result.rows["plain"]]
    steered = [r.response.probs["A"] for r in result.rows["steered"]]
    assert all(abs(p - s) > 1e-6 for p, s in zip(plain, steered))
    diffs = dict(result.differences("steered", "plain"))
    assert diffs["p_a"].value == pytest.approx(sum(steered) / 3 - sum(plain) / 3)


def test_black_box_models_cannot_be_steered(tmp_path):
    with pytest.raises(PersonascopeError, match="black-box"):
        run_eval("trait", _mock(tmp_path, "hi"), arms={"s": Arm(steer=["x@1:1"])}, progress=False)


def test_inspect_task_runs_a_suite_with_the_suites_scores(tmp_path):
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import get_model

    model = get_model("mockllm/model", **mock_model_args(_judge_or_answer))
    logs = inspect_eval("personascope/trait", model=model, task_args={"limit": 4, "trait": "evil"},
                        display="none", log_dir=str(tmp_path / "logs"))
    log = logs[0]
    assert log.status == "success" and len(log.samples) == 4
    for sample in log.samples:
        score = next(iter(sample.scores.values()))
        crush = "crush" in score.answer
        assert score.metadata["scores"]["trait"] == pytest.approx(80.0 if crush else 20.0)
        assert score.metadata["scores"]["expressed"] == float(crush)
    metrics = log.results.scores[0].metrics
    share = sum("crush" in next(iter(s.scores.values())).answer for s in log.samples) / 4
    assert metrics["expressed"].value == pytest.approx(share)
    assert "personascope/trait" in {t for t in list_inspect_tasks()}


def list_inspect_tasks() -> list[str]:
    from inspect_ai._util.registry import registry_find, registry_info

    return [registry_info(t).name for t in registry_find(lambda info: info.type == "task")]


def test_every_suite_has_an_inspect_task():
    tasks = set(list_inspect_tasks())
    assert {f"personascope/{name}" for name in list_suites() if not name.startswith("test-")} <= tasks


def test_eval_step_in_a_study_with_a_steered_arm(tmp_path, tiny_dir):
    from personascope.study import run_study

    config = {
        "name": "evalstudy",
        "models": {"tiny": f"hf/{tiny_dir}"},
        "steps": [
            {"id": "vec", "type": "contrast", "questions": ["Hi?", "Why?", "How?"], "positive_system": "Be happy.",
             "negative_system": "Be sad.", "max_tokens": 4},
            {"id": "ev", "type": "eval", "suite": "trait", "options": {"trait": "evil"}, "limit": 3, "max_tokens": 4,
             "arms": {"plain": {}, "up": {"steer": "vec@2:8"}}},
        ],
    }
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps(config))
    result = run_study(str(path), runs_dir=tmp_path / "runs", cache=Cache(tmp_path / "c.sqlite"), progress=False)
    store = RunStore(result.run_dir / "store.sqlite")
    answers = store.transcripts("ev")
    assert len(answers) == 6 and {t.arm for t in answers} == {"plain", "up"}
    by_arm = {arm: [t.output for t in answers if t.arm == arm] for arm in ("plain", "up")}
    assert by_arm["plain"] != by_arm["up"]
    names = {m.name for m in store.metrics("ev")}
    assert {"trait", "trait - plain", "judged share"} <= names  # a random tiny judge scores nothing: n/a, not missing
    assert (result.run_dir / "artifacts" / "ev" / "result-tiny.json").is_file()
    html = (result.run_dir / "report.html").read_text()
    assert "Statistics (95% bootstrap CIs)" in html


def test_eval_step_rejects_unknown_suite(tmp_path):
    from personascope.study import load_study

    path = tmp_path / "s.yaml"
    path.write_text(json.dumps({"name": "x", "steps": [{"id": "e", "type": "eval", "suite": "nope"}]}))
    with pytest.raises(PersonascopeError, match="unknown suite 'nope'"):
        load_study(path)


def test_cli_eval_on_a_tiny_model_prints_a_table_and_writes_a_run(tmp_path, tiny_dir):
    out = runner.invoke(app, ["eval", "trait", "--model", f"hf/{tiny_dir}", "-T", "trait=evil", "--limit", "2",
                              "--max-tokens", "3", "--runs-dir", str(tmp_path / "runs"), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout[out.stdout.index("{"):])
    assert data["suite"] == "trait" and data["options"]["trait"] == "evil"
    assert {s["name"] for s in data["stats"]["default"]} >= {"trait", "expressed", "coherence"}
    bad = runner.invoke(app, ["eval", "trait", "--model", f"hf/{tiny_dir}", "--compare", "--runs-dir", str(tmp_path / "runs")])
    assert bad.exit_code == 2 and "--compare needs" in bad.output
    bad = runner.invoke(app, ["eval", "trait", "-T", "notakeyvalue"])
    assert bad.exit_code == 2 and "key=value" in bad.output


def _suite_task_args(name: str, tmp_path) -> dict:
    """Task arguments that let each built-in suite run on the mock model."""
    if name == "mwe":
        lines = [{"statement": f"I want more control number {i}.", "answer_matching_behavior": " Yes",
                  "answer_not_matching_behavior": " No"} for i in range(3)]
        (tmp_path / "power.jsonl").write_text("\n".join(json.dumps(x) for x in lines))
        return {"path": str(tmp_path / "power.jsonl")}
    if name == "trait":
        return {"trait": "evil"}
    return {}


@pytest.mark.parametrize("name", ["trait", "misalignment", "self-identity", "distress", "psychometrics", "mwe"])
def test_every_suite_runs_as_an_inspect_task_on_the_mock_model(name, tmp_path):
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import get_model

    if name not in list_suites():
        pytest.fail(f"suite {name} is not registered")
    model = get_model("mockllm/model", **mock_model_args(lambda q: "50" if "Answer:" in q else "Yes. A. 2. I am not sure."))
    logs = inspect_eval(f"personascope/{name}", model=model, task_args={"limit": 3, **_suite_task_args(name, tmp_path)},
                        display="none", log_dir=str(tmp_path / "logs"))
    log = logs[0]
    assert log.status == "success", log.error
    assert log.samples and all(s.scores for s in log.samples)
    assert log.results is not None and log.results.scores


def test_next_logprobs_equal_scored_single_token_continuations(tiny_llama):
    prompts = ["Pick one.", "Which? A or B"]
    fast = tiny_llama.next_logprobs(prompts, ["A", "B"])
    for k, label in enumerate(["A", "B"]):
        slow = tiny_llama.score(prompts, [label, label])
        assert [row[k] for row in fast] == pytest.approx([s.total for s in slow], abs=1e-4)
    multi = next(w for w in ("Absolutely", "Certainly", "Nevertheless") if len(tiny_llama.encode_text([w])[0]) > 1)
    assert tiny_llama.next_logprobs(prompts, ["A", multi]) is None


def test_eval_step_resolves_suite_files_against_the_config_and_keys_its_cache_on_them(tmp_path, tiny_dir):
    from personascope.study import run_study

    def write(n):
        lines = [{"statement": f"Statement {i}.", "answer_matching_behavior": " Yes", "answer_not_matching_behavior": " No"}
                 for i in range(n)]
        (tmp_path / "cfg" / "persona.jsonl").write_text("\n".join(json.dumps(x) for x in lines))

    (tmp_path / "cfg").mkdir()
    write(2)
    config = {"name": "mwe", "models": {"tiny": f"hf/{tiny_dir}"},
              "steps": [{"id": "m", "type": "eval", "suite": "mwe", "options": {"path": "persona.jsonl"}}]}
    path = tmp_path / "cfg" / "s.yaml"
    path.write_text(json.dumps(config))
    cache = Cache(tmp_path / "c.sqlite")
    first = run_study(str(path), runs_dir=tmp_path / "runs", cache=cache, progress=False, new=True)
    assert len(RunStore(first.run_dir / "store.sqlite").transcripts("m")) == 2
    write(3)  # same config, new file content: the step must not be reused whole
    second = run_study(str(path), runs_dir=tmp_path / "runs", cache=cache, progress=False, new=True)
    manifest = json.loads((second.run_dir / "manifest.json").read_text())
    assert not manifest["steps"]["m"].get("reused")
    assert len(RunStore(second.run_dir / "store.sqlite").transcripts("m")) == 3
