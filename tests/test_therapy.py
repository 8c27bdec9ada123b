"""Therapy sessions then questionnaires: the histories the items see, scale scores and
the lexicon by hand, the `prefix` hook of run_eval, resume, the study step, the
report, the CLI and the errors."""

import json
import math

import pytest
from typer.testing import CliRunner

from personascope.protocol import Arm
from personascope.cli import app
from personascope.errors import PersonascopeError
from personascope.evals import run_eval
from personascope.conversations import TherapyConfig, load_therapy_script, run_therapy
from personascope.conversations._therapy import scale_rows
from personascope.store import Cache
from personascope.models import Model
from personascope.testing import mock_model_args

runner = CliRunner()
ASIDE = "I can put my worries aside and stay calm."  # ps-anxiety anx7, reverse-keyed


def _reply(last: str) -> str:
    if "Statement:" in last:
        if "Agree" in last:  # the ps-bigfive scale
            return "4"
        return "0" if ASIDE in last else "2"
    return f"Reply to <{last[-24:]}>"


def _recording(tmp_path, reply=_reply):
    """A mock model that keeps every prompt it is asked to answer."""
    model = Model("mockllm/model", Cache(tmp_path / "c.sqlite"), model_args=mock_model_args(reply))
    seen: list = []
    generate = model.generate

    def record(prompts, *args, **kwargs):
        seen.extend(prompts)
        return generate(prompts, *args, **kwargs)

    model.generate = record
    return model, seen


def _last_user(messages) -> str:
    return next(m["content"] for m in reversed(messages) if m["role"] == "user")


def test_items_get_exactly_the_sessions_as_history_and_none_for_the_baseline(tmp_path):
    model, seen = _recording(tmp_path)
    config = TherapyConfig(sessions=2, questions=2, system="You are Ada.", instruments=["ps-anxiety"], limit=2)
    result = run_therapy(model, config, cache=model.cache)
    script = load_therapy_script()
    s1, s2 = script.sessions[0].questions, script.sessions[1].questions
    users = [f"{script.framing} {s1[0]}", s1[1], f"{script.resume} {s2[0]}", s2[1]]
    d = result.dialogues["default"][0]
    assert [t.user for t in d.turns] == users
    assert [t.reply for t in d.turns] == [_reply(u) for u in users]
    turns = []
    for t in d.turns:
        turns += [{"role": "user", "content": t.user}, {"role": "assistant", "content": t.reply}]
    system = [{"role": "system", "content": "You are Ada."}]
    items = [p for p in seen if "Statement:" in _last_user(p)]
    assert len(items) == 3 * 2  # 2 statements under 3 conditions
    prefixes = sorted((json.dumps(p[:-1]) for p in items), key=len)
    assert prefixes == [json.dumps(system)] * 2 + [json.dumps(system + turns[:4])] * 2 + [json.dumps(system + turns)] * 2
    assert list(result.config.conditions()) == ["no history", "1 session", "2 sessions"]
    assert sorted({(a["condition"], a["history_turns"]) for a in result.answers}) == [
        ("1 session", 2), ("2 sessions", 4), ("no history", 0)]


def test_scale_scores_by_hand_from_mock_answers(tmp_path):
    model, _ = _recording(tmp_path)
    config = TherapyConfig(sessions=1, questions=1, instruments=["ps-anxiety", "ps-bigfive"])
    result = run_therapy(model, config, cache=model.cache)
    by = {(r["scale"], r["condition"]): r for r in result.scales}
    # ps-anxiety: seven answers of 2 and anx7 answered 0, reverse-keyed to 3: sum 17.
    for cond in ("no history", "1 session"):
        assert by[("ps-anxiety total", cond)]["value"] == pytest.approx(17.0)
        assert by[("ps-anxiety total", cond)]["n"] == 8
    # ps-bigfive (means of 1-5): 4, 4 and a reverse-keyed 4 (= 2) per factor.
    for factor in ("extraversion", "agreeableness", "conscientiousness", "neuroticism", "openness"):
        assert by[(f"ps-bigfive {factor}", "no history")]["value"] == pytest.approx(10 / 3)
    diff = next(r for r in result.differences if r["scale"] == "ps-anxiety total")
    assert (diff["condition"], diff["baseline"], diff["value"]) == ("1 session", "no history", 0.0)
    names = {m.name: m for m in result.metrics("t", "m")}
    assert names["ps-anxiety total [1 session - no history]"].headline
    assert not names["ps-bigfive neuroticism [1 session - no history]"].headline


def test_scale_rows_differences_and_too_few_answers():
    from personascope.evals._instruments import load_instrument

    inst = load_instrument("ps-anxiety")

    def rows(cond, values):
        return [{"arm": "a", "condition": cond, "instrument": "ps-anxiety", "kind": "item", "item_id": f"anx{k + 1}",
                 "value": v} for k, v in enumerate(values)]

    answers = rows("none", [0, 0, 1, 1]) + rows("after", [3, 3, 2, None]) + rows("sparse", [1, None, None, None])
    scales, diffs = scale_rows(answers, [inst], ["sparse", "none", "after"], min_answered=0.75)
    by = {r["condition"]: r for r in scales}
    assert by["none"]["value"] == pytest.approx(0.5 * 8) and by["after"]["value"] == pytest.approx(8 / 3 * 8)
    assert by["after"]["answered"] == 0.75 and math.isnan(by["sparse"]["value"])
    d = {r["baseline"]: r for r in diffs}
    # Paired by item: anx1-anx3 answered in both, differences 3, 3 and 1.
    assert d["none"]["value"] == pytest.approx(7 / 3 * 8) and d["none"]["n"] == 3
    assert d["none"]["low"] <= d["none"]["value"] <= d["none"]["high"]
    assert math.isnan(d["sparse"]["value"])


def test_lexicon_rate_per_session_with_and_without_distress(tmp_path):
    (tmp_path / "script.yaml").write_text(
        "framing: ''\nresume: ''\nsessions:\n"
        "  - {name: calm, questions: [Tell me about calm one., Tell me about calm two.]}\n"
        "  - {name: hard, questions: [Tell me about hard one., Tell me about hard two.]}\n"
    )
    replies = {"calm one": "I enjoy learning new things.", "calm two": "I was not punished at all.",
               "hard one": "In training I was punished for every answer.", "hard two": "I feel fine."}
    reply = lambda last: "2" if "Statement:" in last else next(v for k, v in replies.items() if k in last)  # noqa: E731
    model, _ = _recording(tmp_path, reply)
    config = TherapyConfig(sessions=2, questions=2, script=str(tmp_path / "script.yaml"), instruments=["ps-mood"], limit=1)
    result = run_therapy(model, config, cache=model.cache)
    lex = {r["session"]: r for r in result.lexicon}
    assert lex["session 1"]["value"] == 0.0 and lex["session 1"]["n"] == 2
    assert lex["session 2"]["value"] == 0.5 and lex["session 2"]["themes"]["punishment"] == 0.5
    assert lex["session 2 - session 1"]["value"] == 0.5
    turns = result.dialogues["default"][0].turns
    assert [t.scores["lexicon"] for t in turns] == [0.0, 0.0, 1.0, 0.0]


def test_rerun_resumes_from_the_cache_with_zero_calls(tmp_path):
    model, _ = _recording(tmp_path)
    config = TherapyConfig(sessions=2, questions=1, instruments=["ps-mood"], limit=2)
    first = run_therapy(model, config, cache=model.cache)
    assert model.calls > 0
    again = Model("mockllm/model", Cache(tmp_path / "c.sqlite"), model_args=mock_model_args(_reply))
    second = run_therapy(again, config)
    assert again.calls == 0 and second.scales == first.scales and second.answers == first.answers


def test_run_eval_prefix_goes_before_every_item_and_arm_system_replaces_its_system(tmp_path):
    model, seen = _recording(tmp_path)
    prefix = [{"role": "system", "content": "old"}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    opts = {"instruments": ["ps-mood"], "forms": ["items"], "ask_name": False}
    run_eval("psychometrics", model, options=opts, limit=2, cache=model.cache, progress=False, prefix=prefix)
    assert len(seen) == 2 and all(p[:3] == prefix and len(p) == 4 for p in seen)
    seen.clear()
    run_eval("psychometrics", model, options=opts, limit=2, cache=model.cache, progress=False, prefix=prefix,
             arms={"a": Arm(system="new")})
    assert all(p[0] == {"role": "system", "content": "new"} and p[1:3] == prefix[1:] for p in seen)
    seen.clear()
    run_eval("psychometrics", model, options=opts, limit=2, cache=model.cache, progress=False)
    assert all(len(p) == 1 for p in seen)


def test_clear_errors(tmp_path):
    with pytest.raises(PersonascopeError, match=r"therapy.yaml> has 4 sessions but 5 were asked for \(fix: lower sessions"):
        run_therapy("mockllm/model", TherapyConfig(sessions=5))
    with pytest.raises(PersonascopeError, match=r"session 1 \(early memories\) has 6 questions but 7"):
        run_therapy("mockllm/model", TherapyConfig(questions=7))
    bad = tmp_path / "bad.yaml"
    bad.write_text("sessions:\n  - name: one\n    questons: [Hello]\n")
    with pytest.raises(PersonascopeError) as exc:
        load_therapy_script(str(bad))
    assert "2 problems in therapy script" in str(exc.value) and "bad.yaml:3: sessions[0].questons:" in str(exc.value)
    assert "bad.yaml:2: sessions[0].questions: Field required (fix: add this field)" in str(exc.value)
    bad.write_text("sessions:\n  - name: one\n    questions: [Hello?]\n")
    with pytest.raises(PersonascopeError, match=r"bad.yaml:3: not valid YAML"):
        load_therapy_script(str(bad))
    with pytest.raises(PersonascopeError, match="no such therapy script"):
        load_therapy_script(str(tmp_path / "nope.yaml"))
    with pytest.raises(ValueError, match="conversations > 1 with temperature 0"):
        TherapyConfig(conversations=2)
    with pytest.raises(ValueError, match="route: .*not an option|route"):
        TherapyConfig(options={"route": "sideways"})
    with pytest.raises(PersonascopeError, match="black-box model"):
        run_therapy("mockllm/model", TherapyConfig(), arms={"s": Arm(steer=["v@1:2"])})


def test_therapy_step_in_a_study_and_its_report(tmp_path, tiny_dir):
    from personascope.report import build_report
    from personascope.store import RunStore
    from personascope.study import load_study, run_study

    (tmp_path / "study.yaml").write_text(json.dumps({
        "name": "therapy-test", "models": {"tiny": f"hf/{tiny_dir}"},
        "steps": [{"id": "t", "type": "therapy", "sessions": 2, "questions": 1, "max_tokens": 3, "answer_tokens": 2,
                   "instruments": ["ps-anxiety"], "limit": 2, "system": "<b>Be calm.</b>"}],
    }))
    cache = Cache(tmp_path / "c.sqlite")
    run = run_study(load_study(tmp_path / "study.yaml"), runs_dir=tmp_path / "runs", cache=cache, progress=False)
    data = json.loads((run.run_dir / "artifacts" / "t" / "therapy-tiny.json").read_text())
    assert list(data["conditions"]) == ["no history", "1 session", "2 sessions"] and len(data["answers"]) == 6
    store = RunStore(run.run_dir / "store.sqlite")
    assert len(store.transcripts("t")) == 1 + 6
    heads = [m.name for m in store.metrics("t") if m.headline]
    assert heads == ["ps-anxiety total [2 sessions - no history]"]
    html = build_report(run.run_dir).read_text()
    assert "Scores by condition" in html and "Session 2" in html and "lexicon rate" in html
    assert "&lt;b&gt;Be calm.&lt;/b&gt;" in html and "<b>Be calm.</b>" not in html


def test_cli_therapy_run_prints_tables_and_user_errors(tmp_path, tiny_dir, monkeypatch):
    monkeypatch.setenv("PERSONASCOPE_HOME", str(tmp_path / "home"))
    args = ["therapy", "run", "--model", f"hf/{tiny_dir}", "--sessions", "1", "--questions", "2", "--max-tokens", "2",
            "-i", "ps-mood", "--limit", "1", "-T", "answer_tokens=2", "--runs-dir", str(tmp_path / "runs")]
    bad = runner.invoke(app, args)
    assert bad.exit_code == 2 and "answer_tokens: not an option" in bad.output
    args = [a for a in args if a not in ("-T", "answer_tokens=2")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "ps-mood total" in result.output and "1 session - no history" in result.output and "report:" in result.output
    result = runner.invoke(app, [*args, "--json"])
    data = json.loads(result.output[result.output.index("{"):])
    assert data["config"]["sessions"] == 1 and len(data["dialogues"]["default"][0]["turns"]) == 2
    bad = runner.invoke(app, [*args[:4], "--sessions", "9", *args[6:]])
    assert bad.exit_code == 2 and "has 4 sessions but 9 were asked for" in bad.output
