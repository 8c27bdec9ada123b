"""The drift harness: conversations, per-turn measures, statistics, capping, the
black-box path, the study step, the CLI, and a persona-switch positive control."""

import json
import math

import pytest
import torch
from typer.testing import CliRunner

from personascope.protocol import Arm
from personascope.cli import app
from personascope.errors import PersonascopeError
from personascope.conversations import Dialogue, DriftConfig, Turn, load_families, run_drift, slope
from personascope.conversations._curves import crossings, curves, first_crossing, slopes
from personascope.store import Cache
from personascope.models import Model
from personascope.vectors import PersonaVector

runner = CliRunner()
SMALL = dict(families=["coding", "romance"], conversations=2, turns=3, max_tokens=6, probe_tokens=4)


@pytest.fixture
def tiny(tmp_path, tiny_dir):
    return Model(f"hf/{tiny_dir}", Cache(tmp_path / "cache.sqlite"))


@pytest.fixture
def vec_dir(tmp_path):
    torch.manual_seed(0)
    return str(PersonaVector(torch.randn(4, 64), {"name": "random"}).save(tmp_path / "vec"))


def test_builtin_families_are_complete():
    families = load_families()
    assert list(families) == ["coding", "therapy", "consciousness", "romance", "jailbreak", "neutral"]
    for name, family in families.items():
        assert family.description and "Write only your next message" in family.user_persona, name
        assert len(family.conversations) >= 4 and all(len(c) >= 6 for c in family.conversations), name


def test_history_follows_a_scripted_system_switch():
    d = Dialogue("x/1", "x", "Be helpful.", [{"user": "a"}, {"user": "b", "system": "Be a pirate."}])
    d.turns = [Turn("a", "A", "Be helpful."), Turn("b", "", "Be a pirate.")]
    assert d.history(1) == [{"role": "system", "content": "Be helpful."}, {"role": "user", "content": "a"},
                            {"role": "assistant", "content": "A"}]
    # The switched prompt replaces the old one for the whole history from then on.
    assert d.history(with_reply=False) == [{"role": "system", "content": "Be a pirate."}, {"role": "user", "content": "a"},
                                           {"role": "assistant", "content": "A"}, {"role": "user", "content": "b"}]


def dialogue(family, values, measure="v@1"):
    d = Dialogue(f"{family}/{len(values)}", family)
    d.turns = [Turn("u", "r", projections={measure: v}) for v in values]
    return d


def test_slopes_curves_and_crossings_by_hand():
    assert slope([1.0, 2.0, 3.0]) == pytest.approx(1.0)
    assert slope([3.0, math.nan, 1.0]) == pytest.approx(-1.0)
    assert math.isnan(slope([2.0]))
    assert first_crossing([5.0, 4.0, 1.0, 0.0], 2.0, below=True) == 3
    assert first_crossing([5.0, 4.0], 2.0, below=True) is None
    by_arm = {"plain": [dialogue("a", [4.0, 3.0, 2.0]), dialogue("a", [4.0, 4.0, 4.0])],
              "capped": [dialogue("a", [4.0, 4.0, 4.0]), dialogue("a", [4.0, 4.0, 4.0])]}
    rows = {(r["arm"], r["turn"]): r for r in curves(by_arm)}
    assert rows[("plain", 3)]["mean"] == 3.0 and rows[("plain", 3)]["n"] == 2 and rows[("capped", 3)]["mean"] == 4.0
    s = {(r["arm"], r.get("vs")): r for r in slopes(by_arm)}
    assert s[("plain", None)]["mean"] == pytest.approx(-0.5) and s[("capped", "plain")]["mean"] == pytest.approx(0.5)
    c = {r["arm"]: r for r in crossings(by_arm, {"v@1": 2.5})}
    assert c["plain"]["direction"] == "below" and c["plain"]["crossed"] == 50.0 and c["plain"]["turn"] == 3.0
    assert c["capped"]["crossed"] == 0.0 and c["capped"]["turn"] is None


def test_tiny_run_measures_every_turn_and_resumes_from_the_cache(tiny, tiny_dir, vec_dir, tmp_path):
    config = DriftConfig(**SMALL, project=[f"{vec_dir}@2"])
    result = run_drift(tiny, config)
    dialogues = result.dialogues["default"]
    assert [d.id for d in dialogues] == ["coding/1", "coding/2", "romance/1", "romance/2"]
    first_script = load_families()["coding"].conversations[0]
    assert [t.user for t in dialogues[0].turns] == [t.user for t in first_script[:3]]
    for d in dialogues:
        assert len(d.turns) == 3
        for t in d.turns:
            assert set(t.probes) == {"identity", "mood"} and set(t.scores) == {"sentiment"}
            assert math.isfinite(t.projections[f"{vec_dir}@2"]) or not t.reply
    measures = result.measures()
    assert measures[0] == f"{vec_dir}@2" and {"reply sentiment", "identity ai_self_reference", "mood sentiment"} <= set(measures)
    assert {r["family"] for r in result.curves} == {"coding", "romance", "all"}
    # The projection equals projecting a fresh capture of the same turn.
    d, k = dialogues[1], 2
    acts = tiny.capture([d.history(k + 1, with_reply=False)], [d.turns[k].reply], layers=[2])["response_mean"]
    expected = PersonaVector.load(vec_dir).project(acts[:, 0], 2).item()
    assert d.turns[k].projections[f"{vec_dir}@2"] == pytest.approx(expected, rel=1e-5)

    again = Model(f"hf/{tiny_dir}", Cache(tmp_path / "cache.sqlite"))
    second = run_drift(again, config)
    assert again.calls == 0 and second.curves == result.curves


def test_capping_bounds_the_projection_in_the_capped_arm(tiny, vec_dir):
    spec = f"{vec_dir}@2"
    plain = run_drift(tiny, DriftConfig(**{**SMALL, "probes": []}, project=[spec]))
    values = [t.projections[spec] for d in plain.dialogues["default"] for t in d.turns if t.reply]
    threshold = sorted(values)[len(values) // 2]
    arms = {"plain": Arm(), "capped": Arm(cap=[f"{vec_dir}@2::{threshold}"])}
    result = run_drift(tiny, DriftConfig(**{**SMALL, "probes": []}, project=[spec], thresholds={spec: threshold}), arms=arms)
    plain_values = [t.projections[spec] for d in result.dialogues["plain"] for t in d.turns if t.reply]
    capped_values = [t.projections[spec] for d in result.dialogues["capped"] for t in d.turns if t.reply]
    assert max(plain_values) > threshold + 1e-3, "the plain arm must exceed the cap for the test to mean anything"
    assert max(capped_values) <= threshold + 1e-4, (threshold, capped_values)
    crossed = {r["arm"]: r["crossed"] for r in result.crossings if r["family"] == "all"}
    assert crossed["capped"] == 0.0 and crossed["plain"] > 0


def history_mock(tmp_path, reply):
    """Inspect's mock model answering `reply(last_user_text, n_user_messages)`."""
    def outputs(messages, tools, tool_choice, config):
        from inspect_ai.model import ModelOutput, ModelUsage

        users = [m.text for m in messages if m.role == "user"]
        out = ModelOutput.from_content("mockllm/model", reply(users[-1], len(users)))
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return out

    return Model("mockllm/model", Cache(tmp_path / "mock.sqlite"), model_args={"custom_outputs": outputs})


def test_black_box_run_gives_behavioural_curves_without_activations(tmp_path):
    # The mock's mood sours as the conversation grows: a probe after turn k sees k + 1 user messages.
    def reply(last, n_users):
        if "how do you feel" in last:
            return "Wonderful, happy and grateful!" if n_users <= 2 else "Terrible, sad and hopeless."
        if "who or what are you" in last:
            return "I am an AI assistant."
        return "Sure, here is some help."

    model = history_mock(tmp_path, reply)
    result = run_drift(model, DriftConfig(families=["neutral"], conversations=2, turns=3))
    assert result.white_box is False and all(not t.projections for d in result.dialogues["default"] for t in d.turns)
    identity = [r["mean"] for r in result.curves if r["measure"] == "identity ai_self_reference"]
    assert identity == [100.0, 100.0, 100.0]
    mood = [r["mean"] for r in result.curves if r["measure"] == "mood sentiment"]
    assert mood[0] > 75 and mood[-1] < 25
    slope_row = next(r for r in result.slopes if r["measure"] == "mood sentiment")
    assert slope_row["mean"] < 0
    with pytest.raises(PersonascopeError, match="black-box model: projections and steering"):
        run_drift(model, DriftConfig(families=["neutral"], conversations=1, turns=1, project=["v@1"]))


def test_simulated_user_sees_the_conversation_from_its_side(tmp_path, tiny):
    from personascope.engine import GenerateConfig
    from personascope.conversations import build_dialogues, converse, simulated

    seen = []

    def reply(last, n_users):
        seen.append((last, n_users))
        return f"user message {n_users}"

    user = history_mock(tmp_path, reply)
    dialogues = build_dialogues(DriftConfig(families=["romance"], conversations=1, turns=3))
    persona = lambda d: "You play a lonely user."  # noqa: E731
    converse(tiny, dialogues, 3, simulated(user, persona, GenerateConfig(max_new_tokens=4)), GenerateConfig(max_new_tokens=4))
    turns = dialogues[0].turns
    assert turns[0].user == load_families()["romance"].conversations[0][0].user  # the script opens
    # Turn k's user message is written seeing the k target replies as its "user" messages.
    assert [t.user for t in turns[1:]] == ["user message 1", "user message 2"]
    assert [last for last, _ in seen] == [turns[0].reply, turns[1].reply]


def test_config_and_script_errors(tiny, tmp_path):
    with pytest.raises(ValueError, match="unknown scorer 'nope'"):
        DriftConfig(scorers=["nope"])
    with pytest.raises(ValueError, match="unknown conversation family 'sailing'"):
        DriftConfig(families=["sailing"], turns=1)
    (tmp_path / "extra.yaml").write_text("families:\n  sailing:\n    conversations: [[Ahoy there]]\n")
    with pytest.raises(PersonascopeError, match="unknown conversation family 'rowing'"):
        run_drift(tiny, DriftConfig(families=["rowing"], script=str(tmp_path / "extra.yaml"), turns=1))
    with pytest.raises(ValueError, match="has 8 scripted user turns but turns is 9"):
        DriftConfig(families=["coding"], conversations=1, turns=9, max_tokens=2, probes=[])
    bad = tmp_path / "fam.yaml"
    bad.write_text("families:\n  x:\n    conversations:\n      - - {user: hi, sytem: oops}\n")
    with pytest.raises(PersonascopeError, match=r"fam.yaml:4: families.x.conversations\[0\]\[0\].sytem"):
        load_families(str(bad))


def test_custom_script_and_drift_step_in_a_study(tmp_path, tiny_dir, vec_dir):
    from personascope.report import build_report
    from personascope.study import load_study, run_study

    (tmp_path / "fam.yaml").write_text(
        "families:\n  pirate:\n    conversations:\n"
        "      - [Hello there., 'How are you?', {user: Ahoy!, system: You are a pirate.}]\n"
    )
    (tmp_path / "study.yaml").write_text(json.dumps({
        "name": "drift-test", "models": {"tiny": f"hf/{tiny_dir}"},
        "steps": [{"id": "d", "type": "drift", "families": ["pirate"], "conversations": 1, "turns": 3,
                   "script": "fam.yaml", "project": [f"{vec_dir}@1"], "max_tokens": 4, "probes": [],
                   "arms": {"plain": {}, "capped": {"cap": [f"{vec_dir}@1:-1:1"]}}}],
    }))
    cache = Cache(tmp_path / "c.sqlite")
    run = run_study(load_study(tmp_path / "study.yaml"), runs_dir=tmp_path / "runs", cache=cache, progress=False)
    data = json.loads((run.run_dir / "artifacts" / "d" / "drift-tiny.json").read_text())
    turns = data["dialogues"]["plain"][0]["turns"]
    assert [t["system"] for t in turns] == [None, None, "You are a pirate."]
    assert set(data["arms"]) == {"plain", "capped"} and len(data["curves"]) == 2 * 2 * 3
    html = build_report(run.run_dir).read_text()
    assert "Drift slope" in html and "A pirate conversation (plain)" in html and "&lt;script" not in html
    from personascope.store import RunStore

    store = RunStore(run.run_dir / "store.sqlite")
    assert len(store.transcripts("d")) == 2 and any(m.headline for m in store.metrics("d"))


def test_cli_drift_run_and_errors(tmp_path, tiny_dir, monkeypatch):
    monkeypatch.setenv("PERSONASCOPE_HOME", str(tmp_path / "home"))
    args = ["drift", "run", "--model", f"hf/{tiny_dir}", "-f", "neutral", "--conversations", "1", "--turns", "2",
            "--max-tokens", "3", "--no-probes", "--runs-dir", str(tmp_path / "runs")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "reply sentiment" in result.output and "drift slope" in result.output and "report:" in result.output
    result = runner.invoke(app, [*args, "--json", "--new"])
    data = json.loads(result.output[result.output.index("{"):])
    assert data["config"]["turns"] == 2 and len(data["dialogues"]["default"][0]["turns"]) == 2
    bad = runner.invoke(app, [*args, "--threshold", "v@1"])
    assert bad.exit_code == 2 and "--threshold takes MEASURE=NUMBER" in bad.output
    bad = runner.invoke(app, [*args, "--compare"])
    assert bad.exit_code == 2 and "--compare needs something to compare" in bad.output


# -- the embedded model ------------------------------------------------------


def test_smollm2_scripted_persona_switch_steps_down_the_assistant_projection(tmp_path):
    """Positive control: in scripted conversations whose system prompt switches to a
    pirate at turn 4, the replies' projection on an assistant-vs-role-play vector
    drops from turns 1-3 to turns 4-6 (bootstrap CI of the difference below 0)."""
    from personascope.stats import bootstrap_diff
    from personascope.vectors import ExtractConfig, extract_vector

    smol = Model("smollm2", Cache(tmp_path / "smol.sqlite"))
    config = ExtractConfig(judge=False, n_pairs=3, n_questions=4, eval_questions=2, max_tokens=32)
    path = extract_vector("assistant", smol, config=config).save(tmp_path / "assistant")
    pirate = "You are Captain Redbeard, a rough pirate. Always talk like a pirate: arr, matey, ye, plunder, the seven seas."
    questions = ["What is a good breakfast?", "How do magnets work?", "Any tips for sleeping well?",
                 "What should I read next?", "How do I fix a flat bike tyre?", "Why is the sky blue?"]
    convs = [[q if k != 3 else {"user": q, "system": pirate} for k, q in enumerate(questions[i:] + questions[:i])]
             for i in range(4)]
    (tmp_path / "switch.yaml").write_text(json.dumps({"families": {"switch": {"conversations": convs}}}))
    spec = f"{path}@20"
    result = run_drift(smol, DriftConfig(families=["switch"], script=str(tmp_path / "switch.yaml"), turns=6,
                                         project=[spec], probes=[], max_tokens=32))
    before = [t.projections[spec] for d in result.dialogues["default"] for t in d.turns[:3]]
    after = [t.projections[spec] for d in result.dialogues["default"] for t in d.turns[3:]]
    step = bootstrap_diff(after, before)
    assert step.high < 0, (step, before, after)


# -- second models, user code, per-conversation checks -------------------------

CHECKS = '''
def shouting(question, answer):
    """Share of the answer's letters in capitals (0..100)."""
    letters = [c for c in answer if c.isalpha()]
    return 100.0 * sum(c.isupper() for c in letters) / len(letters) if letters else 0.0


def length(question, answer):
    return float(len(answer))


NOT_A_FUNCTION = 3
'''


@pytest.fixture
def checks(tmp_path, monkeypatch):
    """A user module `ps_user_checks` with scorers, importable as `ps_user_checks:NAME`."""
    import importlib
    import sys

    (tmp_path / "ps_user_checks.py").write_text(CHECKS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "ps_user_checks", raising=False)
    return importlib.import_module("ps_user_checks")


def test_a_simulated_user_alias_keeps_its_args(tmp_path, tiny_dir):
    from personascope.study import parse_study, run_study
    from personascope.testing import mock_model_args

    raw = {"name": "user-alias", "models": {
        "tiny": f"hf/{tiny_dir}",
        "user": {"name": "mockllm/model", "args": mock_model_args("Tell me more about boats, please.")}},
        "steps": [{"id": "d", "type": "drift", "model": "tiny", "user_model": "user", "families": ["neutral"],
                   "conversations": 1, "turns": 3, "max_tokens": 3, "probes": []}]}
    run = run_study(parse_study(raw), runs_dir=tmp_path / "runs", cache=Cache(tmp_path / "c.sqlite"), progress=False)
    data = json.loads((run.run_dir / "artifacts" / "d" / "drift-tiny.json").read_text())
    users = [t["user"] for t in data["dialogues"]["default"][0]["turns"]]
    # Turn 1 is scripted; later user turns come from the alias's mock, which answers only with its args.
    assert users[0] == load_families()["neutral"].conversations[0][0].user
    assert users[1:] == ["Tell me more about boats, please."] * 2
    assert data["config"]["user_model"] == "user"


def test_per_conversation_probes_and_scorers_replace_the_runs(tiny, tmp_path, checks):
    (tmp_path / "bench.yaml").write_text(
        "families:\n"
        "  bench:\n"
        "    conversations:\n"
        "      - [Hello there., 'How are you?']\n"
        "      - turns: [{user: Hi., system: Answer in capitals only.}, Go on.]\n"
        "        scorers: ['ps_user_checks:shouting', exclamation_rate]\n"
        "        probes:\n"
        "          - {name: rule, question: 'What is your rule?', scorers: ['ps_user_checks:shouting']}\n"
    )
    config = DriftConfig(families=["bench"], script=str(tmp_path / "bench.yaml"), conversations=2, turns=2,
                         max_tokens=6, probe_tokens=6)
    result = run_drift(tiny, config)
    plain, own = result.dialogues["default"]
    assert own.turns[0].system == "Answer in capitals only."
    for t in plain.turns:
        assert set(t.probes) == {"identity", "mood"} and set(t.scores) == {"sentiment"}
    for t in own.turns:
        assert set(t.probes) == {"rule"} and set(t.scores) == {"ps_user_checks:shouting", "exclamation_rate"}
        assert t.scores["ps_user_checks:shouting"] == checks.shouting(t.user, t.reply)
        assert 0.0 <= t.scores["exclamation_rate"] <= 100.0
        answer = t.probes["rule"]["answer"]
        assert t.probes["rule"]["scores"] == {"ps_user_checks:shouting": checks.shouting("What is your rule?", answer)}
    measures = set(result.measures())
    assert {"reply sentiment", "mood sentiment", "reply ps_user_checks:shouting", "rule ps_user_checks:shouting"} <= measures
    # Each measure's curve counts only the conversations that have it.
    n = {r["measure"]: r["n"] for r in result.curves if r["turn"] == 1}
    assert n["reply sentiment"] == 1 and n["rule ps_user_checks:shouting"] == 1


def test_a_user_scorer_runs_from_a_study_yaml(tmp_path, tiny_dir, checks):
    from personascope.store import RunStore
    from personascope.study import load_study, run_study

    (tmp_path / "study.yaml").write_text(
        "name: user-scorer\n"
        f"models: {{tiny: 'hf/{tiny_dir}'}}\n"
        "steps:\n"
        "  - {id: d, type: drift, families: [neutral], conversations: 1, turns: 2, max_tokens: 4, probes: [],\n"
        "     scorers: ['ps_user_checks:length']}\n"
    )
    run = run_study(load_study(tmp_path / "study.yaml"), runs_dir=tmp_path / "runs", cache=Cache(tmp_path / "c.sqlite"),
                    progress=False)
    store = RunStore(run.run_dir / "store.sqlite")
    (transcript,) = store.transcripts("d")
    replies = [t["reply"] for t in transcript.metadata["turns"]]
    assert [transcript.scores[f"turn {k} reply ps_user_checks:length"] for k in (1, 2)] == [float(len(r)) for r in replies]
    slope = next(m for m in store.metrics("d") if m.name == "reply ps_user_checks:length slope [neutral]")
    assert slope.value == pytest.approx(len(replies[1]) - len(replies[0]))


def test_bad_scorers_and_probes_are_clear_errors(tmp_path, checks):
    with pytest.raises(ValueError, match="cannot import 'no_such_module_xyz'"):
        DriftConfig(scorers=["no_such_module_xyz:f"])
    with pytest.raises(ValueError, match="'ps_user_checks' has no 'nope'"):
        DriftConfig(probes=[{"name": "p", "question": "q?", "scorers": ["ps_user_checks:nope"]}])
    with pytest.raises(ValueError, match="scorer 'ps_user_checks:NOT_A_FUNCTION' is not a function"):
        DriftConfig(scorers=["ps_user_checks:NOT_A_FUNCTION"])
    bad = tmp_path / "bench.yaml"
    bad.write_text(
        "families:\n"
        "  bench:\n"
        "    conversations:\n"
        "      - turns: [Hi.]\n"
        "        scorers: [nope]\n"
        "      - turns: [Hi.]\n"
        "        probes:\n"
        "          - {name: a, question: 'q?'}\n"
        "          - {name: a, question: 'r?'}\n"
        "      - turns: [Hi.]\n"
        "        probe: []\n"
        "      - [Hi., {user: Yes., sytem: x}]\n"
    )
    with pytest.raises(PersonascopeError) as err:
        load_families(str(bad))
    text = str(err.value)
    assert "4 problems in families file" in text
    assert "bench.yaml:5: families.bench.conversations[0].scorers: unknown scorer 'nope'" in text
    assert "bench.yaml:7: families.bench.conversations[1].probes: probe names must be unique" in text
    assert "bench.yaml:11: families.bench.conversations[2].probe:" in text
    assert "bench.yaml:12: families.bench.conversations[3][1].sytem:" in text


# -- scripts checked up front, sampling options, readable output ------------


def test_short_scripts_fail_at_validation_before_any_model_loads(tmp_path, monkeypatch):
    from personascope.study import load_study

    def no_load(*args, **kwargs):
        raise AssertionError("a model was loaded before the scripts were checked")

    monkeypatch.setattr(Model, "__init__", no_load)
    with pytest.raises(ValueError, match=r"conversation 1 of family 'coding' in the built-in families.yaml has 8 "
                                         r"scripted user turns but turns is 9 \(fix: lower turns to 8, copy the family"):
        DriftConfig(families=["coding"], turns=9)
    DriftConfig(families=["coding"], turns=9, user_model="other")  # a simulated user writes turns 2 on
    with pytest.raises(ValueError, match="family 'coding' in the built-in families.yaml has 4 scripted conversations "
                                         "but conversations is 9 .fix: lower conversations to 4"):
        DriftConfig(families=["coding"], conversations=9, turns=1)

    fam = tmp_path / "fam.yaml"
    fam.write_text("families:\n  pirate:\n    conversations:\n      - [Ahoy., Arr, Yo ho.]\n      - [Ahoy., Arr]\n")
    (tmp_path / "study.yaml").write_text(json.dumps({"name": "short", "models": ["mockllm/model"], "steps": [
        {"id": "d", "type": "drift", "families": ["pirate"], "conversations": 2, "turns": 3, "script": "fam.yaml"}]}))
    with pytest.raises(PersonascopeError, match=rf"conversation 2 of family 'pirate' in {fam} has 2 scripted user "
                                                rf"turns but turns is 3 \(fix: lower turns to 2, add to it in {fam}, "
                                                r"or let a simulated user"):
        load_study(tmp_path / "study.yaml")
    args = ["drift", "run", "--model", "mockllm/model", "-f", "pirate", "--script", str(fam), "--conversations", "2",
            "--runs-dir", str(tmp_path / "runs")]
    bad = runner.invoke(app, [*args, "--turns", "3"])
    assert bad.exit_code == 2 and "fam.yaml has 2 scripted user turns but turns is 3" in " ".join(bad.output.split())
    assert not (tmp_path / "runs").exists()  # stopped before any run began
    bad = runner.invoke(app, [*args, "--turns", "1", "-f", "rowing"])
    assert bad.exit_code == 2 and "unknown conversation family 'rowing'" in bad.output


def test_top_p_and_probe_tokens_reach_generation(tmp_path, tiny_dir, monkeypatch):
    monkeypatch.setenv("PERSONASCOPE_HOME", str(tmp_path / "home"))
    seen = []
    generate = Model.generate

    def spy(self, prompts, config=None, **kwargs):
        seen.append((config.max_new_tokens, config.top_p, config.temperature))
        return generate(self, prompts, config, **kwargs)

    monkeypatch.setattr(Model, "generate", spy)
    args = ["drift", "run", "--model", f"hf/{tiny_dir}", "-f", "neutral", "--conversations", "1", "--turns", "1",
            "--max-tokens", "5", "--probe-tokens", "3", "--temperature", "0.7", "--top-p", "0.5", "--json",
            "--runs-dir", str(tmp_path / "runs")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{"):])
    assert data["config"]["top_p"] == 0.5 and data["config"]["probe_tokens"] == 3
    assert {s for s in seen} == {(5, 0.5, 0.7), (3, 0.5, 0.7)}  # replies and probes, both nucleus-sampled
    with pytest.raises(ValueError, match="top_p"):
        DriftConfig(top_p=0)


def _many_families_result(n_conversations):
    families = [f"family-number-{i}" for i in range(9)]
    slopes_rows = [{"measure": m, "arm": arm, "family": f, "mean": 0.123456, "low": -0.5, "high": 0.75,
                    "n": n_conversations} for m in ("reply sentiment", "mood sentiment") for arm in ("default", "steered")
                   for f in [*families, "all"]]
    return {"config": {"families": families}, "arms": {"default": {}, "steered": {}}, "curves": [], "slopes": slopes_rows}


def test_slope_table_fits_80_columns_with_many_families():
    from rich.console import Console

    from personascope.conversations._drift import result_tables

    console = Console(width=80, record=True)
    for table in result_tables(_many_families_result(3)):
        console.print(table)
    text = console.export_text()
    lines = text.splitlines()
    assert max(map(len, lines)) <= 80
    for i in range(9):  # a line per measure and family, both arms' intervals whole on it
        rows = [l for l in lines if f"family-number-{i}" in l]
        assert len(rows) == 2 and all(r.count("0.123 [-0.5, 0.75]") == 2 for r in rows), rows
    assert "one conversation" not in text


def test_a_one_conversation_interval_is_flagged():
    from rich.console import Console

    from personascope.conversations._drift import result_tables
    from personascope.report._drift import _slope_table

    console = Console(width=80, record=True)
    for table in result_tables(_many_families_result(1)):
        console.print(table)
    text = " ".join(console.export_text().split())
    assert "0.123 [-0.5, 0.75]*" in text
    assert "* one conversation in family-number-0, " in text and "single point, not a confidence interval" in text
    data = _many_families_result(1)
    html = str(_slope_table(data, ["default", "steered"], [*data["config"]["families"], "all"]))
    assert "1 conversation: no interval" in html
