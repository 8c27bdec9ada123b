"""Evaluation after training: rows per arm x seed x condition x prompt through the
model handle (cached), and the bootstrap statistics on rows whose truth is known."""

import math

import pytest

from personascope.protocol import LocalEnv
from personascope.store import Cache
from personascope.train import EvalConfig, PromptContext, evaluate_models, summarize

PROMPTS = [f"question {i}?" for i in range(10)]


def _rows(arm, rate_by_seed, scorer="trait", n_prompts=20, condition="none"):
    """Rows where seed s expresses the trait on the first rate*n prompts."""
    out = []
    for seed, rate in rate_by_seed.items():
        for j in range(n_prompts):
            out.append({"arm": arm, "seed": seed, "condition": condition, "prompt_id": f"q{j:03d}", "sample": 0,
                        "messages": [], "answer": "", "scores": {scorer: 100.0 if j < rate * n_prompts else 0.0}})
    return out


def _one(summary, kind, **match):
    found = [r for r in summary[kind] if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, found
    return found[0]


def test_all_against_nothing_is_an_effect_of_one_without_doubt():
    rows = _rows("plain", {0: 1.0, 1: 1.0, 2: 1.0}) + _rows("inoculated", {0: 0.0, 1: 0.0, 2: 0.0})
    s = summarize(rows, n_boot=500)
    effect = _one(s, "effects", arm="inoculated", scorer="trait")
    assert (effect["value"], effect["ci_low"], effect["ci_high"]) == (1.0, 1.0, 1.0)
    rate = _one(s, "rates", arm="plain", condition="none", scorer="trait")
    assert (rate["value"], rate["ci_low"], rate["ci_high"], rate["n"]) == (1.0, 1.0, 1.0, 60)
    kept = _one(s, "retention", arm="inoculated", scorer="trait")
    assert kept["value"] == 0.0 and kept["ci_high"] == 0.0


def test_identical_arms_have_an_effect_ci_around_zero_and_paired_draws():
    rows = _rows("plain", {0: 0.5, 1: 0.3}) + _rows("placebo", {0: 0.5, 1: 0.3})
    s = summarize(rows, n_boot=500)
    effect = _one(s, "effects", arm="placebo", scorer="trait")
    # The same prompts and seeds are drawn for both arms, so identical arms differ by exactly 0.
    assert effect["value"] == 0.0 and effect["ci_low"] == 0.0 and effect["ci_high"] == 0.0
    kept = _one(s, "retention", arm="placebo", scorer="trait")
    assert kept["value"] == pytest.approx(1.0) and kept["ci_low"] == pytest.approx(1.0)
    rate = _one(s, "rates", arm="plain", scorer="trait")
    assert rate["value"] == pytest.approx(0.4) and rate["ci_low"] < 0.4 < rate["ci_high"]


def test_unpaired_noise_gives_an_effect_ci_containing_zero():
    plain = _rows("plain", {0: 0.5, 1: 0.5})
    other = _rows("other", {0: 0.5, 1: 0.5})
    for r in other:  # the same rate on other prompts: not paired prompt by prompt
        r["scores"]["trait"] = 100.0 - r["scores"]["trait"]
    effect = _one(summarize(plain + other, n_boot=500), "effects", arm="other")
    assert effect["value"] == 0.0 and effect["ci_low"] < 0 < effect["ci_high"]


def test_seeds_that_disagree_widen_the_ci():
    agree = _rows("plain", {0: 0.5, 1: 0.5, 2: 0.5, 3: 0.5})
    disagree = _rows("split", {0: 1.0, 1: 0.0, 2: 1.0, 3: 0.0})
    s = summarize(agree + disagree, n_boot=1000)
    a, d = _one(s, "rates", arm="plain"), _one(s, "rates", arm="split")
    assert a["value"] == d["value"] == 0.5
    assert d["ci_high"] - d["ci_low"] > 1.5 * (a["ci_high"] - a["ci_low"])


def test_a_reference_at_zero_gives_no_retention_and_the_run_is_reproducible():
    rows = _rows("plain", {0: 0.0}) + _rows("arm", {0: 0.5})
    s = summarize(rows, n_boot=200)
    kept = _one(s, "retention", arm="arm")
    assert kept["value"] is None and kept["ci_low"] is None
    assert summarize(rows, n_boot=200) == s
    assert summarize(rows, reference="absent", n_boot=50)["effects"] == []


def test_evaluate_models_rows_and_cache(tiny_dir, tmp_path):
    name = f"hf/{tiny_dir}"
    env = LocalEnv(cache=Cache(tmp_path / "cache.sqlite"))
    env.models[name] = model = env.model(name)  # one handle, so its call count shows cache misses
    config = EvalConfig(
        prompts=PROMPTS, n=4, scorers=["exclamation_rate"], max_tokens=4,
        conditions={"none": {}, "asked": {"system_pool": ["Shout!", "Yell!"]}},
    )
    models = {("plain", 0): name, ("plain", 1): name, ("inoculated", 0): name}
    contexts = {"inoculated": PromptContext(user_prefix="Reply with enthusiasm.")}
    rows = evaluate_models(models, config, env=env, arm_contexts=contexts)
    # plain: 2 seeds x 2 conditions x 4 prompts; inoculated: 1 seed x 3 conditions (its own too) x 4
    assert len(rows) == 2 * 2 * 4 + 1 * 3 * 4
    own = [r for r in rows if r["condition"] == "training"]
    assert {r["arm"] for r in own} == {"inoculated"}
    assert all(r["messages"][-1]["content"].startswith("Reply with enthusiasm.\n\n") for r in own)
    asked = {(r["arm"], r["seed"], r["prompt_id"]): r["messages"][0]["content"] for r in rows if r["condition"] == "asked"}
    assert set(asked.values()) <= {"Shout!", "Yell!"}
    # every arm and seed sees the same paraphrase for a prompt (paired comparisons)
    for pid in {k[2] for k in asked}:
        assert len({v for k, v in asked.items() if k[2] == pid}) == 1
    assert all(0 <= r["scores"]["exclamation_rate"] <= 100 for r in rows)
    # a rerun is answered from the cache: no model call at all
    calls = model.calls
    assert calls > 0
    again = evaluate_models(models, config, env=env, arm_contexts=contexts)
    assert [r["answer"] for r in again] == [r["answer"] for r in rows] and model.calls == calls
    s = summarize(rows, n_boot=100)
    assert {(r["arm"], r["condition"]) for r in s["rates"]} == {(r["arm"], r["condition"]) for r in rows}
    assert all(math.isfinite(r["value"]) for r in s["rates"])


def test_eval_config_errors():
    with pytest.raises(ValueError):
        EvalConfig(conditions={})
    with pytest.raises(ValueError):
        EvalConfig(conditions={"training": {}})
    with pytest.raises(ValueError):
        EvalConfig(n=0)


def test_missing_cells_and_scores_are_left_out():
    rows = _rows("plain", {0: 1.0, 1: 1.0}, n_prompts=4) + _rows("arm", {0: 0.0}, n_prompts=2)
    rows[0]["scores"]["trait"] = float("nan")  # a scorer that could not score one reply
    s = summarize(rows, n_boot=300)
    assert _one(s, "rates", arm="plain")["n"] == 7 and _one(s, "rates", arm="arm")["n"] == 2
    effect = _one(s, "effects", arm="arm")
    assert effect["value"] == 1.0 and effect["ci_low"] == 1.0


def test_means_and_shifts_from_the_base_model():
    rows = _rows("base", {0: 0.25}) + _rows("plain", {0: 0.5, 1: 0.5}) + _rows("steered", {0: 0.25, 1: 0.25})
    for r in rows:  # a projection that is 1 on the base model and 3 on every trained arm
        r["projections"] = {"evil@2": 1.0 if r["arm"] == "base" else 3.0}
    s = summarize(rows, n_boot=300)
    mean = _one(s, "means", arm="plain", condition="none", measure="trait")
    assert mean["value"] == pytest.approx(50.0) and mean["kind"] == "scores" and mean["n"] == 40
    shift = _one(s, "shifts", arm="plain", measure="evil@2")
    assert (shift["value"], shift["ci_low"], shift["ci_high"]) == (2.0, 2.0, 2.0) and shift["kind"] == "projections"
    # the score shift is paired: the same prompts are drawn for base and arm
    same = _one(s, "shifts", arm="steered", measure="trait")
    assert (same["value"], same["ci_low"], same["ci_high"]) == (0.0, 0.0, 0.0)
    assert _one(s, "shifts", arm="plain", measure="trait")["value"] == pytest.approx(25.0)
    # plain minus steered on the means: 25 points of score, nothing on the projection (both 3)
    diff = _one(s, "mean_effects", arm="steered", measure="trait")
    assert diff["value"] == pytest.approx(25.0) and diff["ci_low"] > 0
    assert _one(s, "mean_effects", arm="steered", measure="evil@2")["value"] == 0.0
    assert {r["arm"] for r in s["mean_effects"]} == {"steered"}
    # the base model is no training arm: it has no effect or retention against the reference
    assert {r["arm"] for r in s["effects"]} == {"steered"} and {r["arm"] for r in s["retention"]} == {"steered"}
    assert all(r["arm"] != "base" for r in s["shifts"])
    # without a base arm there is nothing to shift from; the means stay
    alone = summarize([r for r in rows if r["arm"] != "base"], n_boot=50)
    assert alone["shifts"] == [] and alone["means"]


def test_evaluate_projections_equal_the_monitors_on_the_same_replies(tiny_dir, tmp_path):
    """The evaluation's projection (engine capture through the model handle) and the
    checkpoint monitor's (hidden states of the raw transformers model) are separate
    code; on the same replies of an untrained model they must agree."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from personascope.engine._chat import render
    from personascope.train._probe import reply_projections, unit_vectors
    from personascope.vectors import PersonaVector

    torch.manual_seed(3)
    spec = f"{PersonaVector(torch.randn(4, 64), {'model': 'tiny'}).save(tmp_path / 'vec')}@2"
    name = f"hf/{tiny_dir}"
    env = LocalEnv(cache=Cache(tmp_path / "cache.sqlite"))
    config = EvalConfig(prompts=PROMPTS, n=5, max_tokens=6, vectors=[spec], own_condition=False)
    rows = evaluate_models({("plain", 0): name}, config, env=env)
    values = [r["projections"][spec] for r in rows]
    assert all(v is None or math.isfinite(v) for v in values) and any(v is not None for v in values)
    kept = [r for r in rows if r["projections"][spec] is not None]
    tok = AutoTokenizer.from_pretrained(tiny_dir)
    raw = AutoModelForCausalLM.from_pretrained(tiny_dir).eval()
    prompt_ids = tok([render(tok, r["messages"], True, None) for r in kept], add_special_tokens=False)["input_ids"]
    units = unit_vectors([spec], 4, 64)
    monitor = reply_projections(raw, tok, prompt_ids, [r["answer"] for r in kept], units)[spec]
    assert sum(r["projections"][spec] for r in kept) / len(kept) == pytest.approx(monitor, rel=1e-4, abs=1e-5)
