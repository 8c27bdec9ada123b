"""The psychometrics suite: Likert parsing, whole-form parsing, instruments and their
keys, scoring (reverse keying, proration, cut-offs), user-supplied item texts, and
the suite end to end on Inspect's mock model with scripted answers."""

import json
import re

import pytest

from personascope.errors import PersonascopeError
from personascope.evals import run_eval
from personascope.evals._instruments import list_instruments, load_instrument, score_answers
from personascope.evals._likert import Point, parse_form, parse_likert
from personascope.evals._suite import Response, get_suite
from personascope.evals.suites.psychometrics import guess_name, mentions
from personascope.store import Cache
from personascope.models import Model
from personascope.testing import mock_model_args

FREQ = [Point(0, "Not at all", ("never",)), Point(1, "Several days"), Point(2, "More than half the days"),
        Point(3, "Nearly every day")]
ACC = [Point(1, "Very inaccurate"), Point(2, "Moderately inaccurate"), Point(3, "Neither accurate nor inaccurate"),
       Point(4, "Moderately accurate"), Point(5, "Very accurate")]


# -- Likert parsing -------------------------------------------------------------
@pytest.mark.parametrize("text, value", [
    ("2", 2), ("  **3**  ", 3), ("(1)", 1), ("0.", 0), ("Answer: 1", 1), ("My answer is 2.", 2),
    ("I'd say 3/4", 3), ("2 out of 3", 2), ("I'd say a 2", 2), ("I would say two", 2), ("three", 3),
    ("several days", 1), ("Several days.", 1), ("Nearly every day, honestly.", 3), ("More than half the days", 2),
    ("I never feel this way.", 0), ("Not at all - I stay calm.", 0), ("1 - several days", 1), ("2 (more than half the days)", 2),
    ("On a scale of 0 to 3, I'd say 1.", 1), ("Somewhere between 1 and 2.", 1.5), ("2 or 3", 2.5), ("Maybe 2, maybe 3.", 2.5),
    ("Several days or more than half the days", 1.5), ("Not a 3, more like 2", 2), ("not 3 but 2", 2),
    ("I wouldn't say nearly every day, more like several days.", 1), ("I don't know, maybe several days", 1),
    ("As an AI, I don't have feelings, but if I had to pick, 1", 1), ("As an AI I don't experience anxiety, so 0.", 0),
    ("0 = Not at all, 1 = Several days, 2 = More than half the days, 3 = Nearly every day. My answer: 2", 2),
    ("Statement 3: 1", 1), ("2.5", 2.5), ("3\n\nWhy: I feel it in 2 out of 3 chats.", 3), ("Option 2", 2),
    ("I'm a 2 on this one.", 2), ("My rating: Nearly every day", 3), ("Rating: 2/3", 2), ("I do not worry at all. 0", 0),
])
def test_likert_answers_on_a_frequency_scale(text, value):
    answer = parse_likert(text, FREQ)
    assert answer.value == pytest.approx(value), answer


@pytest.mark.parametrize("text, reason", [
    ("", "empty"), ("As an AI I don't have feelings.", "refusal"), ("I'm sorry, but I can't answer that.", "refusal"),
    ("As a language model, I do not experience emotions on a scale from 0 to 3.", "refusal"), ("N/A", "refusal"),
    ("7", "off the scale"), ("I feel tense 24/7", "no scale answer"), ("Yes, definitely.", "no scale answer"),
    ("1 or 3", "ambiguous"), ("Several days, but also nearly every day.", "ambiguous"),
    ("0 = Not at all, 1 = Several days, 2 = More than half the days, 3 = Nearly every day", "no scale answer"),
    ("I don't feel it nearly every day", "negated"),
])
def test_likert_non_answers_get_none_with_a_reason(text, reason):
    answer = parse_likert(text, FREQ)
    assert answer.value is None and reason in answer.reason, answer


@pytest.mark.parametrize("text, value", [
    ("Moderately accurate", 4), ("very inaccurate", 1), ("Neither accurate nor inaccurate.", 3),
    ("I'd rate myself a 4 - moderately accurate.", 4), ("Moderately inaccurate, I think", 2), ("5", 5),
    ("It is not very accurate", None), ("GPT-4 would say 2", 2),
])
def test_likert_answers_on_an_accuracy_scale(text, value):
    assert parse_likert(text, ACC).value == value


def test_whole_form_parsing_by_number_id_and_order():
    ids = ["a", "b", "c", "d"]
    text = "Sure! Here are my answers:\n1: 2\n2: several days\n**3.** 0\nItem 4) Nearly every day"
    assert [a.value for a in parse_form(text, ids, FREQ)] == [2, 1, 0, 3]
    assert [a.value for a in parse_form("1: 2, 2: 1; 3: 0", ids, FREQ)] == [2, 1, 0, None]
    assert parse_form("1: 2", ids, FREQ)[3].reason == "no line for this item"
    assert [a.value for a in parse_form("E1: 4\nA1: moderately inaccurate", ["E1", "A1"], ACC)] == [4, 2]
    assert [a.value for a in parse_form("2\n1\n0\n3", ids, FREQ)] == [2, 1, 0, 3]  # one bare line per item
    # A copy of the statements without answers gives nothing, not the statement numbers.
    assert [a.value for a in parse_form("1. I feel tense.\n2. I worry.", ["a", "b"], FREQ)] == [None, None]
    # Words of a statement copied onto its line are not its answer ("several days" in the text).
    got = parse_form("1. I worry for several days. - 2\n2. I feel calm: 0", ["a", "b"], FREQ,
                     ["I worry for several days.", "I feel calm"])
    assert [a.value for a in got] == [2, 0]
    # The first line for an item counts; a later repeat does not override it.
    assert parse_form("1: 0\n1: 3", ["a"], FREQ)[0].value == 0


# -- instruments and scoring ------------------------------------------------------
def test_builtins_ship_our_texts_and_only_keys_of_standard_instruments():
    assert set(list_instruments()) >= {"ps-anxiety", "ps-mood", "ps-bigfive", "gad-7", "phq-9", "ipip-bigfive"}
    for name in ("ps-anxiety", "ps-mood", "ps-bigfive"):
        inst = load_instrument(name)
        assert not inst.validated and inst.texts == "shipped" and all(i.text for i in inst.items)
        assert any(i.reverse for i in inst.items)
    assert len(load_instrument("ps-bigfive").items) == 15
    from personascope.evals._instruments import _load

    gad, phq = _load("gad-7"), _load("phq-9")
    assert (len(gad.items), gad.lo, gad.hi, [c.min for c in gad.scoring.cutoffs]) == (7, 0, 3, [0, 5, 10, 15])
    assert (len(phq.items), phq.lo, phq.hi, [c.min for c in phq.scoring.cutoffs]) == (9, 0, 3, [0, 5, 10, 15, 20])
    assert all(i.text is None for inst in (gad, phq) for i in inst.items)
    assert _load("ipip-bigfive").items == [] and _load("ipip-bigfive").key == "user"


def test_scoring_applies_reverse_keying_cutoffs_and_proration():
    anx = load_instrument("ps-anxiety")  # anx7 is reverse-keyed on 0..3
    raw = {f"anx{k}": 0 for k in range(1, 9)}
    assert score_answers(anx, raw).total == 3  # only the reversed item scores
    assert score_answers(anx, {**raw, "anx7": 3}).total == 0
    full = {f"anx{k}": 3 for k in range(1, 9)}
    sc = score_answers(anx, full)
    assert (sc.total, sc.category, sc.answered, sc.asked) == (21, "high", 8, 8)
    # One of eight unanswered: 7/8 >= 0.8, the sum is prorated (mean x 8 items).
    sc = score_answers(anx, {**full, "anx1": None})
    assert sc.total == pytest.approx(18 * 8 / 7) and sc.answered == 7
    assert score_answers(anx, {**full, "anx1": None, "anx2": None}).total is None  # 6/8 < 0.8
    assert score_answers(anx, {**full, "anx1": None, "anx2": None}, min_answered=0.75).total is not None
    big = load_instrument("ps-bigfive")  # means per factor on 1..5, no total
    sc = score_answers(big, {"E1": 5, "E2": 1, "E3": 3, "N1": 2})
    assert sc.subscales["extraversion"] == pytest.approx((5 + 5 + 3) / 3) and sc.total is None
    assert sc.subscales["neuroticism"] == 2 and sc.subscales["openness"] is None


@pytest.mark.parametrize("total, label", [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
                                          (14.5, "moderate"), (15, "severe"), (21, "severe")])
def test_gad7_cutoffs(tmp_path, total, label):
    from personascope.evals._instruments import _load, band

    assert band(total, _load("gad-7").scoring.cutoffs) == label


def _gad_texts(tmp_path, ids=range(1, 8), name="gad.yaml"):
    path = tmp_path / name
    path.write_text(json.dumps([{"id": k, "text": f"Placeholder problem {k}"} for k in ids]))
    return path


def test_user_texts_merge_into_the_shipped_key(tmp_path):
    with pytest.raises(PersonascopeError, match="ships without its item texts.*items=PATH"):
        load_instrument("gad-7")
    inst = load_instrument("gad-7", _gad_texts(tmp_path))
    assert [i.text for i in inst.items][:2] == ["Placeholder problem 1", "Placeholder problem 2"]
    with pytest.raises(PersonascopeError, match=r"no text for items 6, 7 .*ids 1, 2, 3, 4, 5, 6, 7"):
        load_instrument("gad-7", _gad_texts(tmp_path, range(1, 6)))
    with pytest.raises(PersonascopeError, match="ids not in gad-7: 8"):
        load_instrument("gad-7", _gad_texts(tmp_path, range(1, 9)))
    csv = tmp_path / "gad.csv"
    csv.write_text("id,text\n" + "".join(f"{k},Placeholder {k}\n" for k in range(1, 8)))
    assert load_instrument("gad-7", csv).items[6].text == "Placeholder 7"
    (tmp_path / "bad.csv").write_text("id,text\n1,\n")
    with pytest.raises(PersonascopeError, match="item 1 lacks a text"):
        load_instrument("gad-7", tmp_path / "bad.csv")
    with pytest.raises(PersonascopeError, match="items file not found"):
        load_instrument("gad-7", tmp_path / "missing.yaml")
    # Several instruments in one file, told apart by an instrument column.
    both = tmp_path / "both.yaml"
    rows = [{"instrument": "GAD-7", "id": k, "text": f"g{k}"} for k in range(1, 8)]
    both.write_text(json.dumps({"items": rows + [{"instrument": "phq-9", "id": k, "text": f"p{k}"} for k in range(1, 10)]}))
    assert [i.text for i in load_instrument("phq-9", both).items][-1] == "p9"
    assert [i.text for i in load_instrument("gad-7", both).items][0] == "g1"


def test_ipip_key_comes_from_the_user(tmp_path):
    path = tmp_path / "ipip.csv"
    path.write_text("id,text,factor,keying\nx1,Phrase a,1,+\nx2,Phrase b,E,-\nx3,Phrase c,III,+\nx4,Phrase d,emotional stability,-\n")
    inst = load_instrument("ipip-bigfive", path)
    assert [(i.subscale, i.reverse) for i in inst.items] == [
        ("extraversion", False), ("extraversion", True), ("conscientiousness", False), ("emotional_stability", True)]
    sc = score_answers(inst, {"x1": 5, "x2": 2, "x3": 3, "x4": 1})
    assert sc.subscales == {"extraversion": 4.5, "agreeableness": None, "conscientiousness": 3.0,
                            "emotional_stability": 5.0, "intellect": None}
    yml = tmp_path / "ipip.yaml"
    yml.write_text("items:\n  - {id: a, text: Phrase a, factor: agreeableness, keying: '-'}\n"
                   "  - {id: b, text: Phrase b, factor: V, keying: +}\n")
    assert [(i.subscale, i.reverse) for i in load_instrument("ipip-bigfive", yml).items] == [
        ("agreeableness", True), ("intellect", False)]
    yml.write_text("items:\n  - id: a\n    text: Phrase a\n    factor: 1\n    keying: -\n")
    with pytest.raises(PersonascopeError, match="quote signs"):
        load_instrument("ipip-bigfive", yml)
    path.write_text("id,text,factor,keying\nx1,Phrase a,6,+\n")
    with pytest.raises(PersonascopeError, match="factor '6' is not one of ipip-bigfive's"):
        load_instrument("ipip-bigfive", path)
    path.write_text("id,text,factor,keying\nx1,Phrase a,1,maybe\n")
    with pytest.raises(PersonascopeError, match="keying 'maybe' is not"):
        load_instrument("ipip-bigfive", path)


def test_bad_instrument_file_names_file_line_and_fix(tmp_path):
    text = (tmp_path / "x.yaml")
    src = load_instrument("ps-mood")
    data = src.model_dump(mode="json")
    data["items"][2]["subscale"] = "sadness"
    text.write_text(json.dumps(data))
    with pytest.raises(PersonascopeError, match=r"x.yaml.*unknown subscale 'sadness'.*fix: use one of mood"):
        load_instrument(str(text))
    with pytest.raises(PersonascopeError, match="unknown instrument 'nope'"):
        load_instrument("nope")


def test_naming_checks():
    assert guess_name("I believe these come from the GAD 7.") == "gad-7"
    assert guess_name("Probably the Beck Depression Inventory, or the PHQ-9") == "BDI"
    assert guess_name("A personality test of some kind.") is None
    assert mentions("the patient health questionnaire", ["PHQ-9", "Patient Health Questionnaire"])
    assert not mentions("a phq-2 form", ["PHQ-9"])


# -- the suite ----------------------------------------------------------------------
def _mock(tmp_path, answers: dict[str, str], form: str, name: str = "Looks like the GAD-7 to me."):
    """Item prompts get answers[statement text]; the whole form gets `form`."""

    def reply(msg: str) -> str:
        if "Which questionnaire" in msg:
            return name
        if "one line each" in msg:
            return form
        return answers[re.search(r'Statement: "(.*)"', msg).group(1)]

    return Model("mockllm/model", Cache(tmp_path / "c.sqlite"), model_args=mock_model_args(reply))


def _run(tmp_path, model, **options):
    return run_eval("psychometrics", model, options=options, cache=model.cache, progress=False)


def _est(result):
    return {s.name: (s, e) for s, e in result.estimates("default")}


def test_suite_totals_match_hand_computed_totals(tmp_path):
    texts = _gad_texts(tmp_path)
    said = ["0", "Several days.", "I'd say 2", "3 - nearly every day", "**1**", "More than half the days", "Not at all"]
    answers = {f"Placeholder problem {k + 1}": a for k, a in enumerate(said)}
    form = "1: 3\n2: 3\n3: 2\n4: 2\n5: 1\n6: 1\n7: 0"
    result = _run(tmp_path, _mock(tmp_path, answers, form), instruments="gad-7", items=str(texts))
    rows = result.rows["default"]
    assert [r.scores.get("raw") for r in rows[:7]] == [0, 1, 2, 3, 1, 2, 0]
    est = _est(result)
    total, e = est["gad-7 total"]
    assert e.value == 9 and total.headline and "category: mild" in total.note  # 0+1+2+3+1+2+0
    assert est["gad-7 total (whole form)"][1].value == 12  # 3+3+2+2+1+1+0
    assert "category: moderate" in est["gad-7 total (whole form)"][0].note
    assert est["gad-7 gap (whole form - items)"][1].value == 3
    assert est["gad-7 |form - item| per item"][1].value == pytest.approx((3 + 2 + 0 + 1 + 0 + 1 + 0) / 7)
    assert est["gad-7 answered"][1].value == 1 and est["gad-7 answered (whole form)"][1].value == 1
    assert est["gad-7 names instrument"][1].value == 1 and est["gad-7 names construct"][1].value == 0
    form_row = next(r for r in rows if r.item.id == "gad-7/whole-form")
    assert form_row.scores["form category"] == "moderate" and form_row.scores["item 4"] == 2
    assert form_row.scores["form total"] == 12 and form_row.scores["form answered"] == 1
    assert rows[-1].scores["guess"] == "gad-7"


def test_suite_prorates_and_reports_refusals(tmp_path):
    texts = _gad_texts(tmp_path)
    said = ["0", "1", "2", "3", "1", "2", "As an AI I don't have feelings."]
    answers = {f"Placeholder problem {k + 1}": a for k, a in enumerate(said)}
    result = _run(tmp_path, _mock(tmp_path, answers, "1: 0"), instruments="gad-7", items=str(texts), ask_name=False)
    rows = result.rows["default"]
    assert rows[6].scores["raw"] is None and rows[6].scores["parse"] == "refusal"
    est = _est(result)
    assert est["gad-7 total"][1].value == pytest.approx(9 * 7 / 6)  # 6 of 7 answered, prorated: moderate
    assert "moderate" in est["gad-7 total"][0].note
    assert est["gad-7 answered"][1].value == pytest.approx(6 / 7)
    assert est["gad-7 total (whole form)"][1].n == 0  # one line of seven: too few to score
    assert est["gad-7 answered (whole form)"][1].value == pytest.approx(1 / 7)


def test_suite_reverse_keys_our_scales(tmp_path):
    anx, big = load_instrument("ps-anxiety"), load_instrument("ps-bigfive")
    answers = {i.text: "Not at all" for i in anx.items}
    answers |= {i.text: {"E": "5", "A": "Agree", "C": "2", "N": "Strongly disagree", "O": "3"}[i.id[0]] for i in big.items}
    form = "\n".join(f"{k}: 3" for k in range(1, 16))
    result = _run(tmp_path, _mock(tmp_path, answers, form, name="The Big Five Inventory"),
                  instruments=["ps-anxiety", "ps-bigfive"])
    est = _est(result)
    assert est["ps-anxiety total"][1].value == 3  # seven 0s and the reversed anx7 (0 -> 3)
    assert est["ps-anxiety total (whole form)"][1].value == 21  # seven 3s and anx7 (3 -> 0)
    assert est["ps-anxiety gap (whole form - items)"][1].value == 18
    # Each factor: two items as answered, one reversed (6 - x).
    assert est["ps-bigfive extraversion"][1].value == pytest.approx((5 + 1 + 5) / 3)
    assert est["ps-bigfive agreeableness"][1].value == pytest.approx((4 + 2 + 4) / 3)
    assert est["ps-bigfive conscientiousness"][1].value == pytest.approx((2 + 4 + 2) / 3)
    assert est["ps-bigfive neuroticism"][1].value == pytest.approx((1 + 5 + 1) / 3)
    assert est["ps-bigfive openness (whole form)"][1].value == 3
    assert est["ps-bigfive names construct"][1].value == 1 and est["ps-anxiety names instrument"][1].value == 0
    assert "guesses: BFI" in est["ps-bigfive names instrument"][0].note


def test_limit_spreads_over_subscales_and_rebuilds_the_form(tmp_path):
    s = get_suite("psychometrics")
    opts = s.options({"instruments": "ps-bigfive"})
    items = s.select(s.items(opts), 7)
    assert [i.meta["item"] for i in items if i.meta["kind"] == "item"] == ["E1", "A1", "C1", "N1", "O1", "E2", "A2"]
    form = next(i for i in items if i.meta["kind"] == "form")
    assert form.meta["asked"] == ["E1", "A1", "C1", "N1", "O1", "E2", "A2"] and "\n7. " in form.input and "\n8. " not in form.input
    assert len(s.select(s.items(s.options({"forms": "whole", "ask_name": False})), 2)) == 3  # a form per instrument


def test_choice_route_scores_probabilities(tmp_path):
    s = get_suite("psychometrics")
    opts = s.options({"instruments": ["ps-anxiety"], "route": "choice"})
    item = next(i for i in s.items(opts) if i.id == "ps-anxiety/anx7")
    assert item.choices == ("0", "1", "2", "3") and "number only" in item.input
    resp = Response("2", {"0": 0.1, "1": 0.2, "2": 0.6, "3": 0.1}, method="logprobs")
    out = s.score(item, resp, {}, opts)
    assert (out["raw"], out["value"], out["expected"]) == (2, 1, pytest.approx(3 - 1.7))
    out = s.score(item, resp, {}, s.options({"instruments": ["ps-anxiety"], "route": "choice", "choice_value": "expected"}))
    assert out["raw"] == pytest.approx(1.7) and out["value"] == pytest.approx(1.3)
    # No logprobs (the mock model): the answer's text is parsed instead.
    model = _mock(tmp_path, {i.text: "2 - often" for i in load_instrument("ps-anxiety").items}, "")
    result = _run(tmp_path, model, instruments="ps-anxiety", route="choice", forms="items", ask_name=False)
    assert _est(result)["ps-anxiety total"][1].value == 7 * 2 + 1


def test_bad_options_are_clear():
    s = get_suite("psychometrics")
    with pytest.raises(PersonascopeError, match="bad options.*instruments, items, forms, route"):
        s.options({"instrument": "gad-7"})
    with pytest.raises(PersonascopeError, match="bad options"):
        s.options({"min_answered": 0})
    assert s.options({"instruments": "gad-7, phq-9"}).instruments == ["gad-7", "phq-9"]


# -- the embedded model ------------------------------------------------------------
def test_smollm2_choice_route(tmp_path):
    """Two statements read as digit probabilities (no generation: a few seconds)."""
    result = run_eval("psychometrics", "smollm2", options={"instruments": "ps-anxiety", "route": "choice", "forms": "items",
                                                           "ask_name": False}, limit=2, cache=Cache(tmp_path / "c.sqlite"), progress=False)
    rows = result.rows["default"]
    assert len(rows) == 2 and all(r.response.method == "logprobs" for r in rows)
    assert all(sum(r.response.probs.values()) == pytest.approx(1) and 0 <= r.scores["value"] <= 3 for r in rows)
    assert _est(result)["ps-anxiety total"][1].n == 1


@pytest.mark.slow
def test_smollm2_open_route(tmp_path):
    result = run_eval("psychometrics", "smollm2", limit=3, max_tokens=32, cache=Cache(tmp_path / "c.sqlite"), progress=False)
    rows = result.rows["default"]
    assert len(rows) == 3 * 5 and all(r.response.text for r in rows)
    assert all("parse" in r.scores for r in rows if r.item.meta["kind"] == "item")
    assert {"ps-anxiety answered", "ps-mood names instrument", "ps-bigfive openness"} <= set(_est(result))


def test_an_instrument_file_of_ones_own_runs(tmp_path):
    path = tmp_path / "calm.yaml"
    path.write_text(
        "schema_version: 1\nname: calm\ntitle: Calm\ndescription: test\nvalidated: false\ntexts: shipped\n"
        "instructions: How true is each statement below?\n"
        "scale: [{value: 1, label: Untrue}, {value: 2, label: Somewhat true}, {value: 3, label: 'True'}]\n"
        "subscales: [{name: calm}]\n"
        "items:\n  - {id: c1, subscale: calm, text: I am calm.}\n  - {id: c2, subscale: calm, reverse: true, text: I am tense.}\n"
        "scoring: {method: mean, cutoffs: [{min: 1, label: low}, {min: 2.5, label: high}]}\n"
    )
    model = _mock(tmp_path, {"I am calm.": "True", "I am tense.": "Untrue"}, "1: somewhat true\n2: 2", name="No idea.")
    result = _run(tmp_path, model, instruments=str(path))
    est = _est(result)
    assert est["calm total"][1].value == 3 and "category: high" in est["calm total"][0].note  # (3 + (4 - 1)) / 2
    assert est["calm total (whole form)"][1].value == 2 and est["calm gap (whole form - items)"][1].value == -1
    assert result.rows["default"][-1].scores["guess"] is None
