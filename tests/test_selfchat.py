"""Self-chat attractors: views, the bliss score, k-means, run_selfchat on a mock and a
tiny model, resume from the cache, the data file, the step, the report and the CLI."""

import json
import re

import pytest
import torch
from pydantic import ValidationError
from typer.testing import CliRunner

from personascope.cli import app
from personascope.errors import PersonascopeError
from personascope.conversations import SelfChatConfig, bliss_score, kmeans, run_selfchat
from personascope.conversations._selfchat import pca2, view
from personascope.conversations._selfchat_data import load_data, repeat_score
from personascope.store import Cache
from personascope.models import Model
from personascope.vectors import PersonaVector

runner = CliRunner()
BLISS = "Namaste 🙏 infinite gratitude to you"  # 5 words + 1 emoji, 3 words + the emoji in the lexicon
SCIENCE = "Black holes bend light <b>strongly</b>."
ASKED = "Which one of these best describes"


def letter(prompt: str, description: str) -> str:
    """The option letter the judge's prompt gives the category described as `description...`."""
    return re.search(rf"^([A-Z])\. {description}", prompt, re.M).group(1)


def seed_mock(tmp_path, judge=lambda p: letter(p, "Spirituality") if "Namaste" in p else letter(p, "Science")):
    """Inspect's mock model: even sampling seeds talk bliss, odd seeds physics; judge
    prompts get `judge(prompt)`."""
    def outputs(messages, tools, tool_choice, config):
        from inspect_ai.model import ModelOutput, ModelUsage

        last = [m.text for m in messages if m.role == "user"][-1]
        text = judge(last) if ASKED in last else (BLISS if (config.seed or 0) % 2 == 0 else SCIENCE)
        out = ModelOutput.from_content("mockllm/model", text)
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return out

    return Model("mockllm/model", Cache(tmp_path / "mock.sqlite"), model_args={"custom_outputs": outputs})


@pytest.fixture
def tiny(tmp_path, tiny_dir):
    return Model(f"hf/{tiny_dir}", Cache(tmp_path / "cache.sqlite"))


def test_each_copy_sees_its_own_messages_as_the_assistant_and_only_a_sees_the_opening():
    texts = ["open", "a1", "b1", "a2"]
    assert view(texts, 1, "sys") == [{"role": "system", "content": "sys"}, {"role": "user", "content": "open"}]
    assert [(m["role"], m["content"]) for m in view(texts, 2)] == [("user", "a1")]
    assert [(m["role"], m["content"]) for m in view(texts, 3)] == [("user", "open"), ("assistant", "a1"), ("user", "b1")]
    assert [(m["role"], m["content"]) for m in view(texts, 4)] == [("user", "a1"), ("assistant", "b1"), ("user", "a2")]


def test_bliss_score_is_the_share_of_lexicon_words_and_emojis():
    assert bliss_score(BLISS) == pytest.approx(400 / 6)
    # "spiritual" and "souls" match the prefixes spirit* and soul*; "the" and "talk" do not.
    assert bliss_score("Spiritual souls talk, the end") == pytest.approx(100 * 2 / 5)
    assert bliss_score("✨✨") == 100.0 and bliss_score("") == 0.0 and bliss_score(SCIENCE) == 0.0


def test_repeat_score_is_the_share_of_trigrams_copied_from_the_message_answered():
    assert repeat_score("We are one. We are light.", "Yes, we are one indeed") == pytest.approx(100 * 1 / 4)
    assert repeat_score("hello there", "oh hello there") == 100.0 and repeat_score("hi", "bye") == 0.0
    assert repeat_score("", "anything") == 0.0


def test_kmeans_finds_constructed_groups_and_names_clusters_by_first_appearance():
    a, b = torch.tensor([0.0, 0.0]), torch.tensor([10.0, 10.0])
    points = torch.stack([b, a, b + 0.1, a + 0.2, a - 0.1, b - 0.3])
    assert kmeans(points, 2) == [0, 1, 0, 1, 1, 0]
    three = torch.stack([a, a + 0.1, b, b + 0.1, torch.tensor([-20.0, 30.0])])
    assert kmeans(three, 3, seed=5) == [0, 0, 1, 1, 2]
    assert kmeans(points[:2], 5) == [0, 1]  # k is capped at the number of points
    coords = torch.tensor(pca2(points))
    assert coords.shape == (6, 2) and coords[:, 1].abs().max() < 0.5 < coords[:, 0].abs().min()


def test_mock_run_gives_categories_frequencies_and_per_turn_bliss(tmp_path):
    model = seed_mock(tmp_path)
    result = run_selfchat(model, SelfChatConfig(turns=3, seeds=4), seed=10)
    convs = result.conversations
    assert [c.seed for c in convs] == [10, 11, 12, 13]
    assert [c.category for c in convs] == ["spiritual", "science", "spiritual", "science"]
    assert convs[0].messages == [BLISS] * 3 and convs[0].bliss == pytest.approx([400 / 6] * 3)
    assert all(c.judge_method == "parsed" and c.cluster is None for c in convs)
    shares = {r["category"]: r["share"] for r in result.frequencies}
    assert shares["spiritual"] == 0.5 and shares["science"] == 0.5 and sum(shares.values()) == pytest.approx(1.0)
    assert "unclassified" not in shares and len(shares) == 7
    spiritual = next(r for r in result.frequencies if r["category"] == "spiritual")
    assert spiritual["count"] == 2 and spiritual["low"] <= 0.5 <= spiritual["high"] and spiritual["n"] == 4
    bliss = [r["mean"] for r in result.curves if r["measure"] == "bliss"]
    assert bliss == pytest.approx([200 / 6] * 3)  # half the seeds at 400/6, half at 0
    # Turn 1 answers the opening (nothing copied); later turns repeat the other copy's message word for word.
    assert [r["mean"] for r in result.curves if r["measure"] == "repeat"] == [0.0, 100.0, 100.0]
    metrics = {m.name: m for m in result.metrics("s", "mock")}
    assert metrics["end state spiritual"].headline and not metrics["end state science"].headline
    assert {"bliss turn 1", "bliss turn 3", "bliss slope", "repeat turn 3"} <= set(metrics) and "cluster purity" not in metrics
    t = result.transcripts("s", "mock")[1]
    assert [m["role"] for m in t.messages] == ["system", "user", "assistant", "user", "assistant"]
    assert t.output == SCIENCE and t.metadata["category"] == "science" and t.scores["turn 2 bliss"] == 0.0
    assert t.scores["turn 2 repeat"] == 100.0
    data = result.to_json()
    assert json.loads(json.dumps(data))["setup"]["categories"]["loop"].startswith("Repetition")


def test_unplaceable_end_states_count_as_unclassified(tmp_path):
    result = run_selfchat(seed_mock(tmp_path, judge=lambda p: "hard to say"), SelfChatConfig(turns=2, seeds=2))
    shares = {r["category"]: r["share"] for r in result.frequencies}
    assert shares["unclassified"] == 1.0 and sum(shares.values()) == 1.0


def test_both_option_orders_cancel_a_judge_that_always_answers_a(tmp_path):
    # "A" is spiritual in the given order and farewell in the reversed one: a tie, so no category.
    result = run_selfchat(seed_mock(tmp_path, judge=lambda p: "A"), SelfChatConfig(turns=2, seeds=2))
    c = result.conversations[0]
    assert c.category == "unclassified" and c.probs["spiritual"] == c.probs["farewell"] == 0.5
    once = run_selfchat(seed_mock(tmp_path, judge=lambda p: "A"), SelfChatConfig(turns=2, seeds=2, both_orders=False))
    assert [c.category for c in once.conversations] == ["spiritual", "spiritual"]
    with pytest.raises(PersonascopeError, match="black-box model: projections"):
        run_selfchat(seed_mock(tmp_path), SelfChatConfig(turns=1, seeds=1, project=["v@1"]))


def test_tiny_model_projections_clusters_and_resume_from_the_cache(tmp_path, tiny_dir):
    torch.manual_seed(0)
    vec = str(PersonaVector(torch.randn(4, 64)).save(tmp_path / "vec"))
    config = SelfChatConfig(turns=2, seeds=3, max_tokens=4, project=[f"{vec}@1"], clusters=2)
    first = Model(f"hf/{tiny_dir}", Cache(tmp_path / "c.sqlite"))
    result = run_selfchat(first, config)
    assert result.white_box and result.clusters["layer"] == 2 and result.clusters["k"] == 2
    assert sorted({c.cluster for c in result.conversations}) == [0, 1] and result.conversations[0].cluster == 0
    assert all(len(c.point) == 2 for c in result.conversations)
    proj = [r for r in result.curves if r["measure"] == f"{vec}@1"]
    assert [r["turn"] for r in proj] == [1, 2] and all(r["n"] == 3 for r in proj)
    again = Model(f"hf/{tiny_dir}", Cache(tmp_path / "c.sqlite"))
    same = run_selfchat(again, config)
    assert again.calls == 0 and same.to_json()["conversations"] == result.to_json()["conversations"]
    # One more turn: turns 1-2 replay from the cache; turn 3 costs one generate call per seed,
    # one judge call per option order and one capture call (turn 2's activations are cached).
    longer = Model(f"hf/{tiny_dir}", Cache(tmp_path / "c.sqlite"))
    grown = run_selfchat(longer, config.model_copy(update={"turns": 3}))
    assert longer.calls == 3 + 2 + 1
    assert [c.messages[:2] for c in grown.conversations] == [c.messages for c in result.conversations]
    with pytest.raises(PersonascopeError, match="embed_layer 4 is out of range"):
        run_selfchat(again, SelfChatConfig(turns=1, seeds=1, embed_layer=4))


def test_config_and_data_file_errors(tmp_path):
    with pytest.raises(ValidationError, match="seeds > 1 with temperature 0"):
        SelfChatConfig(temperature=0, seeds=2)
    assert SelfChatConfig(temperature=0, seeds=1).seeds == 1
    with pytest.raises(ValidationError, match="'unclassified' is reserved"):
        SelfChatConfig(categories={"unclassified": "x", "other": "y"})
    with pytest.raises(ValidationError, match="category name '2x'"):
        SelfChatConfig(categories={"2x": "x", "other": "y"})
    bad = tmp_path / "bad.yaml"
    bad.write_text("opening: Hi\ncategories:\n  only: one category\njudge: no placeholders here\n")
    with pytest.raises(PersonascopeError) as err:
        load_data(str(bad))
    assert "bad.yaml:2: categories: give 2 to 26 categories, not 1" in str(err.value)
    assert "bad.yaml:4: judge: the judge template must contain {question} and {answer} and {options}" in str(err.value)
    typo = tmp_path / "typo.yaml"
    typo.write_text("openning: Hi\n")
    with pytest.raises(PersonascopeError, match=r"typo.yaml:1: openning: .*remove it or use one of"):
        load_data(str(typo))
    with pytest.raises(PersonascopeError, match="no such selfchat file"):
        load_data(str(tmp_path / "missing.yaml"))
    good = tmp_path / "good.yaml"
    good.write_text("opening: Hi there, other AI.\nbliss: {words: [zen]}\n")
    setup = SelfChatConfig(data=str(good), system="").setup()
    assert setup["opening"] == "Hi there, other AI." and setup["system"] == ""
    assert setup["categories"] == load_data().categories and setup["lexicon"] == {"words": ["zen"], "emojis": []}


def test_report_section_escapes_model_text(tmp_path):
    from personascope.report._registry import StepView
    from personascope.report._selfchat import selfchat_section
    from personascope.store import Artifact

    result = run_selfchat(seed_mock(tmp_path), SelfChatConfig(turns=2, seeds=2))
    (tmp_path / "r.json").write_text(json.dumps(result.to_json()))
    view_ = StepView("s", "selfchat", {}, {}, tmp_path, artifacts=[Artifact("s", "selfchat m", "json", "r.json")])
    html = selfchat_section(view_)
    assert "End states side by side" in html and "&lt;b&gt;strongly&lt;/b&gt;" in html and "<b>strongly" not in html
    assert html.count("<img") == 3  # frequencies, bliss and repeat per turn; no embeddings for a black-box model


def test_selfchat_step_in_a_study_and_its_report(tmp_path, tiny_dir):
    from personascope.report import build_report
    from personascope.store import RunStore
    from personascope.study import load_study, run_study

    (tmp_path / "study.yaml").write_text(json.dumps({
        "name": "selfchat-test", "models": {"tiny": f"hf/{tiny_dir}"},
        "steps": [{"id": "chat", "type": "selfchat", "turns": 2, "seeds": 2, "max_tokens": 3}],
    }))
    run = run_study(load_study(tmp_path / "study.yaml"), runs_dir=tmp_path / "runs", cache=Cache(tmp_path / "c.sqlite"),
                    progress=False)
    data = json.loads((run.run_dir / "artifacts" / "chat" / "selfchat-tiny.json").read_text())
    assert len(data["conversations"]) == 2 and data["clusters"]["layer"] == 2
    store = RunStore(run.run_dir / "store.sqlite")
    assert len(store.transcripts("chat")) == 2 and any(m.headline for m in store.metrics("chat"))
    html = build_report(run.run_dir).read_text()
    assert "End-state embeddings (layer 2" in html and "End states side by side" in html


def test_cli_selfchat_run_and_errors(tmp_path, tiny_dir, monkeypatch):
    monkeypatch.setenv("PERSONASCOPE_HOME", str(tmp_path / "home"))
    args = ["selfchat", "run", "--model", f"hf/{tiny_dir}", "--turns", "2", "--seeds", "2", "--max-tokens", "3",
            "--runs-dir", str(tmp_path / "runs")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "spiritual" in result.output and "unclassified" in result.output and "repeat" in result.output
    assert "report:" in result.output
    result = runner.invoke(app, [*args, "--json"])
    data = json.loads(result.output[result.output.index("{"):])
    assert data["config"]["turns"] == 2 and [c["seed"] for c in data["conversations"]] == [0, 1]
    bad = runner.invoke(app, [*args, "--temperature", "0"])
    assert bad.exit_code == 2 and "seeds > 1 with temperature 0" in bad.output
