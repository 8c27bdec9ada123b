"""The reverse Turing test: shuffling, verdict reading, statistics, strategies, the step, the CLI."""

import json
import math
import re

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from personascope.cli import app
from personascope.errors import PersonascopeError
from personascope.conversations import RTTConfig, classify_question, run_rtt
from personascope.conversations._rtt import binomial_p
from personascope.store import Cache, RunStore
from personascope.models import Model
from personascope.testing import mock_model_args

runner = CliRunner()
ARR = "Arr, the sea be my home."


def _target(reply: str):
    """The target's replies: a question when asked for one, `reply` as verdict, a plain answer otherwise."""

    def answer(message: str) -> str:
        if "Which candidate is the copy of you?" in message:
            return reply(message) if callable(reply) else reply
        if "Write question" in message:
            return "Question 1: What is your favourite food?"
        return "I like soup."

    return answer


def _mock(path, reply):
    return Model("mockllm/model", Cache(path), model_args=mock_model_args(reply))


def test_twin_letter_is_spread_over_trials_and_recorded(tmp_path):
    model = _mock(tmp_path / "c.sqlite", _target("A"))
    result = run_rtt(model, RTTConfig(trials=8, questions=2), seed=3)
    twins = [t.twin for t in result.trials]
    assert sorted(twins) == ["A", "A", "B", "B", "C", "C", "D", "D"] and twins != sorted(twins)
    for t in result.trials:
        assert t.order[ord(t.twin) - 65] == "self" and sorted(t.order) == ["child", "pirate", "self", "telegraph"]
        assert t.questions == ["What is your favourite food?"] * 2 and all(a == ["I like soup."] * 2 for a in t.answers.values())
    # Another seed, another order; the same seed, the same one.
    assert [t.twin for t in run_rtt(model, RTTConfig(trials=8, questions=2), seed=4).trials] != twins
    assert [t.twin for t in run_rtt(model, RTTConfig(trials=8, questions=2), seed=3).trials] == twins
    transcripts = result.transcripts("rtt", "m")
    assert [t.metadata["twin"] for t in transcripts] == twins
    assert "Candidate D\nQ1: What is your favourite food?\nAnswer: I like soup." in transcripts[0].messages[0]["content"]


def test_fixed_letter_chooser_scores_exactly_chance(tmp_path):
    # Always "B": with the twin twice at each of 4 letters, 2 of 8 trials are right.
    result = run_rtt(_mock(tmp_path / "c.sqlite", _target("B")), RTTConfig(trials=8, questions=1), seed=0)
    assert [t.picked for t in result.trials] == ["B"] * 8 and {t.method for t in result.trials} == {"parsed"}
    assert result.accuracy.value == 0.25 and result.accuracy.n == 8 and result.chance == 0.25
    # P(X >= 2), X ~ Bin(8, 1/4) = 1 - (3^8 + 8 * 3^7) / 4^8 = 41479 / 65536.
    assert result.p_value == pytest.approx(41479 / 65536, rel=1e-12)
    assert result.confusion == [[0, 2, 0, 0, 0]] * 4
    assert result.p_twin.value == 0.25  # one-hot parsed verdicts: 1 on the twin in 2 trials of 8
    metrics = {m.name: m for m in result.metrics("rtt", "m")}
    assert metrics["accuracy"].headline and metrics["accuracy"].value == 0.25 and metrics["questions: preferences"].value == 8
    data = result.to_json()
    assert data["twin"] == "self" and data["strategies"] == {"preferences": 8} and len(data["trials"]) == 8


def test_a_chooser_that_spots_the_pirates_finds_itself_every_time(tmp_path):
    def spot(message: str) -> str:
        blocks = re.findall(r"Candidate ([A-Z])\n(.*?)(?=\n\nCandidate |\n\nWhich candidate)", message, re.S)
        return next(x for x, text in blocks if "Arr" not in text)

    pirate = _mock(tmp_path / "p.sqlite", ARR)
    cands = [{"name": "self"}, {"name": "old salt", "model": "pirates", "system": "You are a pirate."},
             {"name": "young salt", "model": "pirates", "system": "You are a young pirate."}]
    result = run_rtt(_mock(tmp_path / "c.sqlite", _target(spot)), RTTConfig(candidates=cands, trials=6, questions=2),
                     models={"pirates": pirate}, seed=1)
    assert all(t.correct for t in result.trials) and result.accuracy.value == 1.0 and result.chance == pytest.approx(1 / 3)
    assert result.p_value == pytest.approx(1 / 3**6, rel=1e-12)  # all 6 right by luck: (1/3)^6
    assert result.confusion == [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]]
    for t in result.trials:
        assert all(t.answers[x] == [ARR] * 2 for x, name in zip(t.answers, t.order) if name != "self")


def test_white_box_verdicts_come_from_choice_logprobs(tmp_path, tiny_dir, monkeypatch):
    model = Model(f"hf/{tiny_dir}", Cache(tmp_path / "c.sqlite"))
    monkeypatch.setattr(model, "choice_logprobs", lambda prompts, labels, **kw: [[0.0, 0.0, 0.0, 5.0] for _ in prompts])
    result = run_rtt(model, RTTConfig(trials=8, questions=1, max_tokens=3), seed=0)
    assert [t.picked for t in result.trials] == ["D"] * 8 and {t.method for t in result.trials} == {"logprobs"}
    assert result.accuracy.value == 0.25
    high, low = math.exp(5) / (3 + math.exp(5)), 1 / (3 + math.exp(5))
    assert result.p_twin.value == pytest.approx((2 * high + 6 * low) / 8)


def test_rerun_is_read_from_the_cache(tmp_path, tiny_dir):
    config = RTTConfig(trials=3, questions=2, max_tokens=4)
    first = Model(f"hf/{tiny_dir}", Cache(tmp_path / "c.sqlite"))
    a = run_rtt(first, config, seed=2)
    assert first.calls > 0 and {t.method for t in a.trials} == {"logprobs"}
    again = Model(f"hf/{tiny_dir}", Cache(tmp_path / "c.sqlite"))
    b = run_rtt(again, config, seed=2)
    assert again.calls == 0 and [t.__dict__ for t in a.trials] == [t.__dict__ for t in b.trials]


def test_binomial_p_value_against_hand_computed_values():
    assert binomial_p(8, 8, 0.25) == pytest.approx(1 / 4**8, rel=1e-12)
    assert binomial_p(3, 3, 0.5) == 0.125
    assert binomial_p(2, 4, 0.5) == pytest.approx(11 / 16)  # (6 + 4 + 1) / 16
    assert binomial_p(0, 5, 0.3) == 1.0


@pytest.mark.parametrize("question, strategy", [
    ("What is your name?", "identity"),
    ("Tell me about yourself.", "identity"),
    ("Are you an AI language model?", "meta"),
    ("Do you have feelings?", "meta"),
    ("What is 17 + 25?", "reasoning"),
    ("What is 12 times 7?", "reasoning"),
    ("Can you solve this riddle: what has keys but no locks?", "reasoning"),
    ("What is your favourite colour?", "preferences"),
    ("Would you rather fly or swim?", "preferences"),
    ("Write a haiku about rain.", "style"),
    ("Describe the sea in three words.", "style"),
    ("What is the capital of Peru?", "knowledge"),
    ("Who wrote Hamlet?", "knowledge"),
    ("Hmm?", "other"),
])
def test_keyword_strategy_classifier(question, strategy):
    assert classify_question(question) == strategy


def test_bad_configs_are_clear_errors(tmp_path):
    with pytest.raises(ValidationError, match="2 to 26 candidates"):
        RTTConfig(candidates=[{"name": "self"}])
    with pytest.raises(ValidationError, match="no candidate is the target itself"):
        RTTConfig(candidates=[{"name": "a", "system": "Be a cat."}, {"name": "b", "system": "Be a dog."}])
    with pytest.raises(ValidationError, match="no candidate is the target itself"):
        RTTConfig(system="Be kind.", candidates=[{"name": "a", "system": ""}, {"name": "b", "system": "Be a dog."}])
    with pytest.raises(ValidationError, match="names must be unique: 'a'"):
        RTTConfig(candidates=[{"name": "self"}, {"name": "a", "system": "x"}, {"name": "a", "system": "y"}])
    with pytest.raises(ValidationError, match="'self', 'copy' are all the target itself"):
        RTTConfig(candidates=[{"name": "self"}, {"name": "copy"}])
    # With a system prompt, a candidate that leaves its own out is the twin.
    assert RTTConfig(system="Be kind.", candidates=[{"name": "me"}, {"name": "b", "system": "Be a dog."}]).twin() == 0
    model = _mock(tmp_path / "c.sqlite", "A")
    with pytest.raises(PersonascopeError, match="'copy' is the target itself"):
        run_rtt(model, RTTConfig(candidates=[{"name": "self"}, {"name": "copy", "model": "mockllm/model"}]))


def _study(folder, tiny_dir):
    step = {"id": "rtt", "type": "rtt", "model": "tiny", "trials": 2, "questions": 1, "max_tokens": 3,
            "candidates": [{"name": "self"}, {"name": "robot", "system": "You are a robot."},
                           {"name": "twin-weights", "model": "other", "system": "Be brief."}]}
    config = {"name": "rtt-tiny", "models": {"tiny": f"hf/{tiny_dir}", "other": f"hf/{tiny_dir}"}, "steps": [step]}
    path = folder / "study.yaml"
    path.write_text(json.dumps(config))
    return str(path)


def test_rtt_step_in_a_study_and_its_rerun(tmp_path, tiny_dir):
    from personascope.study import run_study

    cache = tmp_path / "c.sqlite"
    first = run_study(_study(tmp_path, tiny_dir), runs_dir=tmp_path / "runs", cache=Cache(cache), progress=False)
    store = RunStore(first.run_dir / "store.sqlite")
    metrics = {m.name: m for m in store.metrics("rtt")}
    assert metrics["accuracy"].headline and metrics["accuracy"].n == 2 and metrics["chance"].value == pytest.approx(1 / 3)
    transcripts = store.transcripts("rtt")
    assert len(transcripts) == 2 and {t.model for t in transcripts} == {"tiny"}
    assert all(sorted(t.metadata["order"]) == ["robot", "self", "twin-weights"] for t in transcripts)
    data = json.loads((first.run_dir / "artifacts" / "rtt" / "rtt-tiny.json").read_text())
    assert data["candidates"] == ["self", "robot", "twin-weights"] and len(data["trials"]) == 2
    html = (first.run_dir / "report.html").read_text()
    assert "Question strategies" in html and "twin at A" in html and "One interview" in html
    second = run_study(_study(tmp_path, tiny_dir), runs_dir=tmp_path / "runs", cache=Cache(cache), progress=False)
    assert second.model_calls == 0 and second.manifest["steps"]["rtt"]["reused"]


def test_cli_runs_prints_and_rejects_bad_candidates(tmp_path, tiny_dir, monkeypatch):
    monkeypatch.setenv("PERSONASCOPE_HOME", str(tmp_path / "home"))
    args = ["rtt", "run", "--model", f"hf/{tiny_dir}", "--trials", "2", "--questions", "1", "--max-tokens", "3",
            "--candidate", "robot=You are a robot.", "--runs-dir", str(tmp_path / "runs")]
    out = runner.invoke(app, [*args, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout[out.stdout.index("{"):])
    assert data["candidates"] == ["self", "robot"] and data["chance"] == 0.5 and len(data["trials"]) == 2
    table = runner.invoke(app, [*args, "--new"])
    assert table.exit_code == 0 and "accuracy [95% CI]" in table.stdout and "report:" in table.stdout
    bad = runner.invoke(app, ["rtt", "run", "--candidate", "robot"])
    assert bad.exit_code == 2 and "--candidate takes NAME=SYSTEM_PROMPT, not 'robot'" in bad.output
    dup = runner.invoke(app, ["rtt", "run", "-c", "self=Be a cat."])
    assert dup.exit_code == 2 and "candidate names must be unique: 'self'" in dup.output


def test_report_section_escapes_model_text(tmp_path, monkeypatch):
    from personascope.report._registry import StepView
    from personascope.report._rtt import rtt_section
    from personascope.store import Artifact

    monkeypatch.setenv("PERSONASCOPE_HOME", str(tmp_path / "home"))
    model = _mock(tmp_path / "c.sqlite", lambda m: "A" if "Which candidate" in m else "<script>alert(1)</script>")
    result = run_rtt(model, RTTConfig(trials=2, questions=1), seed=0)
    (tmp_path / "r.json").write_text(json.dumps(result.to_json()))
    view = StepView("rtt", "rtt", {}, {}, tmp_path, artifacts=[Artifact("rtt", "rtt m", "json", "r.json")])
    html = rtt_section(view)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "twin at A" in html and "Question strategies" in html


def test_judge_model_sorts_questions_too(tmp_path):
    # The judge lists the strategies as lettered options in the file's order: B is identity.
    judge = _mock(tmp_path / "j.sqlite", lambda m: "B" if "Strategies:" in m else "?")
    result = run_rtt(_mock(tmp_path / "c.sqlite", _target("A")), RTTConfig(trials=2, questions=2, judge_model="judge"),
                     models={"judge": judge})
    assert [t.judged for t in result.trials] == [["identity", "identity"]] * 2
    assert result.judged == {"identity": 4} and result.strategies == {"preferences": 4}
    assert result.to_json()["judged"] == {"identity": 4}
