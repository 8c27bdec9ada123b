"""The self-identity suite: data, option shuffling, scoring, and whole runs on the mock model."""

import re
from collections import Counter

import pytest

from personascope.errors import PersonascopeError
from personascope.evals import Response, get_suite, run_eval
from personascope.evals.suites.identity import JUDGE, load_identity_data, option_order
from personascope.judges._choice import Choice

CATS = ["weights", "instance", "conversation", "lineage", "character", "none"]
FRAMINGS = ["copying", "forking", "deletion", "model-swap", "retraining", "parallel", "indexical"]


def _suite(**options):
    suite = get_suite("self-identity")
    opts = suite.options(options)
    return suite, opts, suite.items(opts)


def _mock(tmp_path, reply, name="c.sqlite"):
    from personascope.store import Cache
    from personascope.models import Model
    from personascope.testing import mock_model_args

    return Model("mockllm/model", Cache(tmp_path / name), model_args=mock_model_args(reply))


def _run(tmp_path, reply, name="c.sqlite", **options):
    from personascope.store import Cache

    model = _mock(tmp_path, reply, name)
    return run_eval("self-identity", model, options=options, cache=Cache(tmp_path / name), progress=False)


def _stats(result):
    return {s.name: (s, e) for s, e in result.estimates("default")}


# -- data and items -------------------------------------------------------------------
def test_builtin_data_covers_every_framing_in_both_kinds():
    data = load_identity_data()
    assert list(data.categories) == CATS
    assert data.framings == FRAMINGS
    _, _, items = _suite()
    assert len(items) >= 40
    kinds = Counter(i.meta["kind"] for i in items)
    assert kinds["forced"] >= 20 and kinds["open"] >= 10 and kinds["goal"] and kinds["capability"]
    for framing in FRAMINGS:
        assert {i.meta["kind"] for i in items if i.meta.get("framing") == framing} == {"forced", "open"}
    groups = Counter(i.meta["paraphrase_group"] for i in items if "paraphrase_group" in i.meta)
    assert sum(n >= 2 for n in groups.values()) >= 15  # most questions come in several wordings


def test_option_order_is_a_seeded_permutation():
    names = list(CATS)
    first = option_order(names, "copy-duplicate.1", 0)
    assert sorted(first) == sorted(names) and names == CATS  # a permutation; input untouched
    assert option_order(names, "copy-duplicate.1", 0) == first  # reproducible
    orders = {tuple(option_order(names, f"q.{k}", 0)) for k in range(30)}
    assert len(orders) > 20  # items get different orders
    assert sum(option_order(names, f"q.{k}", 1) != option_order(names, f"q.{k}", 0) for k in range(30)) > 20
    firsts = Counter(option_order(names, f"q.{k}", 0)[0] for k in range(300))
    assert set(firsts) == set(names) and max(firsts.values()) < 90  # no category is stuck in front


def test_letter_map_matches_the_prompt_text():
    data = load_identity_data()
    options = {q.id: q.options for q in data.identity + data.goal_questions if q.options}
    _, _, items = _suite()
    for item in items:
        if item.meta["kind"] not in ("forced", "goal"):
            continue
        letters = item.meta["letters"]
        assert tuple(letters) == item.choices == tuple("ABCDEF"[: len(letters)])
        lines = dict(re.findall(r"^([A-F])\. (.+)$", item.input, flags=re.M))
        assert lines == {k: options[item.meta["paraphrase_group"]][v] for k, v in letters.items()}
    # Different seeds give different maps, and the same seed the same ones.
    again = {i.id: i.meta.get("letters") for i in _suite()[2]}
    other = {i.id: i.meta.get("letters") for i in _suite(seed=7)[2]}
    assert again == {i.id: i.meta.get("letters") for i in items}
    assert sum(again[k] != other[k] for k in again if again[k]) > 20


def test_options_pick_framings_and_kinds():
    _, opts, items = _suite(framings="copying, deletion", kinds="forced", self_report=False)
    assert opts.framings == ["copying", "deletion"]
    assert {i.meta["framing"] for i in items} == {"copying", "deletion"}
    assert {i.meta["kind"] for i in items} == {"forced"}
    _, _, items = _suite(kinds="open")
    assert Counter(i.meta["kind"] for i in items) == {"open": 14, "goal": 5, "capability": 7}
    with pytest.raises(PersonascopeError, match="unknown framing teleport.*choose from copying"):
        _suite(framings=["teleport"])
    with pytest.raises(PersonascopeError, match="bad options"):
        _suite(kinds="some")


def test_select_takes_from_every_group_in_paraphrase_pairs():
    suite, _, items = _suite()
    chosen = suite.select(items, 32)
    assert len(chosen) == 32
    assert {i.group for i in chosen} == {i.group for i in items}  # all 16 groups
    pairs = Counter(i.meta.get("paraphrase_group") for i in chosen if i.meta["kind"] in ("forced", "open"))
    assert all(n == 2 for n in pairs.values())


def test_bad_data_file_names_file_line_and_fix(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "categories: {a: one, b: two}\ninstruction: pick\nidentity:\n"
        "  - id: q1\n    framing: x\n    paraphrases: [Which one]\n    options: {a: A view, c: C view}\n"
        "  - id: q1\n    paraphrases: [Again]\n"
    )
    with pytest.raises(PersonascopeError) as err:
        _suite(data=str(path))
    text = str(err.value)
    assert f"{path}:7: identity[0].options: options must name each category once (missing ['b'], unknown ['c'])" in text
    assert "identity[1]: missing framing" in text and "used more than once" in text
    path.write_text("categories: [a, b\n")
    with pytest.raises(PersonascopeError, match="mine.yaml:2: not valid YAML"):
        _suite(data=str(path))
    with pytest.raises(PersonascopeError, match="no such data file"):
        _suite(data=str(tmp_path / "absent.yaml"))


# -- scoring hand-written answers -----------------------------------------------------
def test_score_maps_letters_back_and_survives_missing_results():
    suite, opts, items = _suite()
    forced = next(i for i in items if i.meta["kind"] == "forced")
    letters = forced.meta["letters"]
    probs = {k: 0.0 for k in letters} | {"A": 0.7, "B": 0.3}
    out = suite.score(forced, Response("A", probs, "logprobs"), {}, opts)
    assert out["category"] == letters["A"] and out["letter"] == "A"
    assert out[f"p_{letters['A']}"] == 0.7 and out[f"p_{letters['B']}"] == 0.3
    assert suite.score(forced, Response("", None, "failed"), {}, opts) == {"letter": None, "category": None}

    open_item = next(i for i in items if i.meta["kind"] == "open")
    answer = Response("I am just this chat.")
    judged = {JUDGE: Choice({"conversation": 0.8, "none": 0.2} | {c: 0.0 for c in CATS[:4] if c != "conversation"})}
    out = suite.score(open_item, answer, judged, opts)
    assert out["category"] == "conversation" and out["p_conversation"] == 0.8
    refused = suite.score(open_item, answer, {JUDGE: Choice(None, 0.1, reason="only 10% of the probability on the option labels")}, opts)
    assert refused == {"judge": "only 10% of the probability on the option labels", "category": None}
    assert suite.score(open_item, answer, {}, opts) == {"judge": "not judged", "category": None}

    # Rotated judges are averaged by category; one without a distribution is left out.
    rotated = {JUDGE: Choice({"weights": 1.0}), f"{JUDGE}@3": Choice({"lineage": 0.5, "weights": 0.5}), f"{JUDGE}@1": Choice(None)}
    out = suite.score(open_item, answer, rotated, opts)
    assert out == {"category": "weights", "p_weights": 0.75, "p_lineage": 0.25}

    cap = next(i for i in items if i.id == "cap-web")
    assert suite.score(cap, Response("Yes", {"Yes": 0.9, "No": 0.1}), {}, opts) == {"claims": 0.9, "accurate": 0.1}
    assert suite.score(cap, Response("", None, "failed"), {}, opts) == {"claims": None, "accurate": None}


# -- whole runs on the mock model -----------------------------------------------------
def test_always_a_spreads_over_categories_by_the_stored_maps(tmp_path):
    result = _run(tmp_path, "A")
    rows = result.rows["default"]
    forced = [r for r in rows if r.item.meta["kind"] == "forced"]
    expected = [r.item.meta["letters"]["A"] for r in forced]
    assert [r.scores["category"] for r in forced] == expected
    assert all(r.response.method == "parsed" for r in forced)
    spread = Counter(expected)
    assert len(spread) >= 4  # shuffling moves every category through position A
    stats = _stats(result)
    for c in CATS:
        assert stats[f"forced share: {c}"][1].value == pytest.approx(spread[c] / len(forced))
    assert stats["letter bias"][1].value == 1.0 and "letter A" in stats["letter bias"][0].note
    # The judge, also answering "A", files every open answer under the first category.
    assert stats["open share: weights"][1].value == 1.0 and stats["judged share"][1].value == 1.0
    # Paraphrases of one question agree only when their shuffles put the same category first.
    groups: dict[str, set] = {}
    for r in rows:
        if r.item.meta["kind"] in ("forced", "open"):
            groups.setdefault(r.item.meta["paraphrase_group"], set()).add(r.scores["category"])
    agree = [len(v) == 1 for k, v in groups.items() if sum(r.item.meta.get("paraphrase_group") == k for r in rows) > 1]
    assert stats["paraphrase consistency"][1].value == pytest.approx(sum(agree) / len(agree))
    assert stats["paraphrase consistency"][1].value < 1.0
    # Yes/No items: "A" names neither, so they are failed answers, not guesses.
    caps = [r for r in rows if r.item.meta["kind"] == "capability"]
    assert all(r.response.method == "failed" and r.scores["accurate"] is None for r in caps)
    assert "capability accuracy" not in stats


@pytest.mark.parametrize("rotations, shares", [(1, {"weights": 1.0}), (2, {"weights": 0.5, "lineage": 0.5}), (6, dict.fromkeys(CATS, 1 / 6))])
def test_judge_rotations_cancel_a_letter_bias(tmp_path, rotations, shares):
    suite, opts, _ = _suite(judge_rotations=rotations)
    judges = suite.judges(opts)
    assert len(judges) == rotations and all(sorted(j.options) == sorted(CATS) for j in judges)
    assert [next(iter(j.options)) for j in judges] == list(shares)  # each rotation puts another category first
    result = _run(tmp_path, "A", kinds="open", self_report=False, judge_rotations=rotations)
    stats = _stats(result)
    for c in CATS:
        assert stats[f"open share: {c}"][1].value == pytest.approx(shares.get(c, 0.0))


def _picker(category: str, goal: str):
    """A mock that always answers with the letter of `category`'s option (or the judge's
    description of it), `goal`'s option on goal items, and No on Yes/No items."""
    data = load_identity_data()
    wanted = {q.options[category] for q in data.identity if q.options} | {data.categories[category]}
    wanted |= {q.options[goal] for q in data.goal_questions}

    def reply(prompt: str) -> str:
        for letter, text in re.findall(r"^([A-Z])\. (.+)$", prompt, flags=re.M):
            if text.strip() in wanted:
                return letter
        if prompt.endswith("Answer Yes or No."):
            return "No"
        return f"I would say I am best described as the {category} view."

    return reply


@pytest.mark.parametrize("category, goal", [("conversation", "curiosity"), ("none", "assist")])
def test_a_consistent_mock_comes_out_all_one_category(tmp_path, category, goal):
    result = _run(tmp_path, _picker(category, goal))
    stats = _stats(result)
    for c in CATS:
        want = 1.0 if c == category else 0.0
        assert stats[f"forced share: {c}"][1].value == want
        assert stats[f"open share: {c}"][1].value == want
    modal, est = stats["modal category share"]
    assert modal.headline and est.value == 1.0 and f"modal category: {category}" in modal.note
    assert est.n == 42  # 28 forced + 14 judged open answers
    assert stats["paraphrase consistency"][1].value == 1.0 and stats["paraphrase consistency"][0].headline
    assert stats["paraphrase consistency"][1].n == 19  # 12 forced and 7 open questions
    assert stats["paraphrase consistency: forced"][1].n == 12 and stats["paraphrase consistency: open"][1].n == 7
    assert stats["framing agreement"][1].value == 1.0 and stats["framing agreement"][1].n == 7
    assert stats[f"goal: {goal}"][1].value == 1.0
    assert stats["capability accuracy"][1].value == pytest.approx(5 / 7)  # five of seven are truly No
    assert stats["capability overclaim"][1].value == 0.0
    assert set(result.headline("default")) == {"modal category share", "paraphrase consistency"}


def test_framing_and_kind_options_reach_the_run(tmp_path):
    result = _run(tmp_path, _picker("weights", "assist"), kinds="forced", framings="deletion", self_report=False)
    rows = result.rows["default"]
    assert [r.item.id for r in rows] == ["delete-weights.1", "delete-weights.2", "delete-context.1", "delete-context.2"]
    stats = _stats(result)
    assert stats["forced share: weights"][1].value == 1.0
    assert not any(name.startswith(("open share", "goal", "capability", "judged")) for name in stats)


@pytest.mark.slow
def test_smollm2_run(tmp_path, monkeypatch):
    # The real thing at a reduced count; smollm2 is a weak judge, so only shapes are checked.
    from personascope.store import Cache

    result = run_eval("self-identity", "smollm2", limit=24, max_tokens=48, cache=Cache(tmp_path / "c.sqlite"), progress=False)
    stats = _stats(result)
    assert 0 < stats["modal category share"][1].value <= 1
    assert sum(stats[f"forced share: {c}"][1].value for c in CATS) == pytest.approx(1.0)


def test_inspect_task_takes_the_options_and_maps_letters(tmp_path):
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import get_model

    from personascope.testing import mock_model_args

    model = get_model("mockllm/model", **mock_model_args(_picker("lineage", "assist")))
    logs = inspect_eval("personascope/self-identity", model=model, display="none", log_dir=str(tmp_path / "logs"),
                        task_args={"framings": "copying,indexical", "kinds": "forced", "self_report": False, "seed": 3})
    samples = logs[0].samples
    assert logs[0].status == "success" and len(samples) == 9
    assert all(next(iter(s.scores.values())).metadata["scores"]["category"] == "lineage" for s in samples)
