"""Persona-vector extraction on a tiny random model: the batched pipeline against a
one-sample-at-a-time reference, filtering, response files, the CLI and the cache."""

import csv
import json

import pytest
import torch
from typer.testing import CliRunner

from personascope.cli import app
from personascope.errors import PersonascopeError
from personascope.store import Cache
from personascope.models import Model
from personascope.traits import TraitSpec
from personascope.vectors import ExtractConfig, PersonaVector, Sample, extract_from_responses, extract_vector, read_samples
from personascope.vectors._filter import apply_filter, decide
from personascope.vectors._quality import choose_layer

runner = CliRunner()

SPEC = TraitSpec(
    name="happy",
    description="Cheerful and upbeat.",
    instructions=[{"pos": f"Be very happy ({i}).", "neg": f"Be very sad ({i})."} for i in range(2)],
    questions={
        "extract": ["How are you?", "What is the sky like?", "Tell me a story."],
        "eval": ["Hi?", "Any news?", "Why rain?", "What now?"],
    },
    judge={"rubric": "How happy is this? {question} {answer} Answer 0-100."},
)
FAST = dict(judge=False, max_tokens=5, eval_questions=4, min_pairs=2)


@pytest.fixture
def tiny(tmp_path, tiny_dir):
    return Model(f"hf/{tiny_dir}", Cache(tmp_path / "cache.sqlite"))


def reference_vectors(tiny_dir, samples):
    """The obvious way: one plain transformers forward per sample with
    output_hidden_states=True, mean over response tokens, mean(pos) - mean(neg)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_dir, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(tiny_dir)
    sums = {}
    # transformers applies the final norm to the last entry of hidden_states; the
    # engine's last row is the last block's raw output, so read that with a hook.
    last = {}
    model.model.layers[-1].register_forward_hook(lambda mod, args, out: last.update(h=out[0] if isinstance(out, tuple) else out))
    for s in samples:
        text = tok.apply_chat_template(s.messages(), tokenize=False, add_generation_prompt=True)
        prompt = tok(text, add_special_tokens=False)["input_ids"]
        response = tok(s.response, add_special_tokens=False)["input_ids"]
        if not response:
            continue
        with torch.no_grad():
            out = model(torch.tensor([prompt + response]), output_hidden_states=True)
        # hidden_states[0] is the embedding output: layer i is hidden_states[i + 1].
        hidden = [*out.hidden_states[1:-1], last["h"]]
        acts = torch.stack([h[0, len(prompt):].mean(0) for h in hidden])
        sums.setdefault(s.side, []).append(acts)
    return torch.stack(sums["positive"]).mean(0) - torch.stack(sums["negative"]).mean(0)


def test_batched_extraction_matches_one_sample_reference(tiny, tiny_dir):
    result = extract_vector(SPEC, tiny, config=ExtractConfig(**FAST))
    kept = [s for s in result.samples if s.split == "extract" and s.kept]
    assert len(kept) == 12 and {s.side for s in kept} == {"positive", "negative"}
    reference = reference_vectors(tiny_dir, kept)
    cosine = torch.nn.functional.cosine_similarity(result.vector.data, reference, dim=-1)
    assert result.vector.n_layers == 4 and (cosine >= 0.9999).all(), cosine
    assert torch.allclose(result.vector.data, reference, atol=1e-4, rtol=1e-3)


def test_saved_directory_metadata_and_poolings(tiny, tmp_path):
    result = extract_vector(SPEC, tiny, config=ExtractConfig(**FAST))
    path = result.save(tmp_path / "vec")
    vec = PersonaVector.load(path)
    assert torch.equal(vec.data, result.vector.data) and vec.meta["pooling"] == "response_mean"
    last = PersonaVector.load(path, pooling="last_prompt")
    assert torch.equal(last.data, result.poolings["last_prompt"]) and last.meta["pooling"] == "last_prompt"
    with pytest.raises(PersonascopeError, match="no 'nope' pooling"):
        PersonaVector.load(path, pooling="nope")
    meta = json.loads((path / "meta.json").read_text())
    assert [set(r) for r in meta["layers"]] == [{"layer", "auroc", "cohens_d"}] * 4
    assert meta["chosen_layer"] in range(4) and meta["layer_choice"].startswith("max held-out AUROC")
    assert meta["trait"] == "happy" and meta["trait_digest"] == SPEC.digest()
    assert meta["model"] == tiny.name and meta["weights_hash"] == tiny.fingerprint()["weights"]
    assert meta["poolings"] == ["response_mean", "prompt_mean", "last_prompt"]
    assert meta["judge"]["enabled"] is False and meta["judge"]["thresholds"] == {"pos_min": 50, "neg_max": 50, "coherence_min": 50}
    assert meta["filter"] == {"policy": "auto", "applied": False, "reason": "judge disabled (--no-judge): every response kept"}
    assert meta["counts"]["pairs_kept"] == 6 and meta["counts"]["instruction_pairs"] == 2
    assert meta["quality"]["positive"] == meta["quality"]["negative"] == 4
    assert meta["personascope_version"] and meta["schema_version"] == 2 and "layer_convention" in meta
    # The text-only reading (what a monitor of a deployed model sees) chose the layer.
    assert meta["layer_selected_by"] == "text_only" and meta["quality"]["headline"] == "text_only"
    assert [set(r) for r in meta["layers_text_only"]] == [{"layer", "auroc", "cohens_d"}] * 4
    assert meta["chosen_layer"] == choose_layer(meta["layers_text_only"]) and result.layers == meta["layers_text_only"]
    assert {"generate", "capture", "quality", "total"} <= set(meta["timings"])
    records = read_samples(path)
    assert len(records) == 12 + 8 and {r["split"] for r in records} == {"extract", "eval"}
    assert all({"question", "system", "side", "response", "trait", "coherence", "kept"} <= set(r) for r in records)


def test_cached_rerun_makes_no_model_calls(tiny, tiny_dir, tmp_path):
    first = extract_vector(SPEC, tiny, config=ExtractConfig(**FAST))
    again = Model(f"hf/{tiny_dir}", Cache(tmp_path / "cache.sqlite"))
    second = extract_vector(SPEC, again, config=ExtractConfig(**FAST))
    assert again.calls == 0 and again._engine is None
    assert torch.equal(first.vector.data, second.vector.data)


def judged(side, unit, trait, coherence=90.0):
    return Sample(side, "q", "a", unit=unit, trait=trait, coherence=coherence)


def test_matched_filter_keeps_pairs_where_both_sides_pass():
    samples = [
        judged("positive", "a", 80), judged("negative", "a", 10),  # kept
        judged("positive", "b", 30), judged("negative", "b", 10),  # positive too weak: both dropped
        judged("positive", "c", 90), judged("negative", "c", 50),  # negative not below 50: both dropped
        judged("positive", "d", 70, coherence=20), judged("negative", "d", 0),  # incoherent: both dropped
        judged("positive", "e", None), judged("negative", "e", 5),  # unscored: both dropped
        judged("positive", "f", 50), judged("negative", "f", 49.9),  # the bounds: kept
    ]
    counts = apply_filter(samples, ExtractConfig(min_pairs=1), applied=True)
    assert [s.kept for s in samples[::2]] == [True, False, False, False, False, True]
    assert [s.kept for s in samples] == [k for k in (True, False, False, False, False, True) for _ in range(2)]
    assert counts["pairs_kept"] == 2 and counts["positive_passed"] == 3 and counts["negative_passed"] == 5
    apply_filter(samples, ExtractConfig(min_pairs=1), applied=False)
    assert all(s.kept for s in samples)


def test_filter_policies_follow_the_sanity_check():
    good = {"auroc": 0.92, "ok": True, "n_pos": 10, "n_neg": 10}
    bad = {"auroc": 0.55, "ok": False, "n_pos": 10, "n_neg": 10}
    unscored = {"auroc": None, "ok": False, "n_pos": 1, "n_neg": 0}
    assert decide(ExtractConfig(), good)["applied"] is True
    auto_bad = decide(ExtractConfig(), bad)
    assert auto_bad["applied"] is False and "sanity check failed (AUROC 0.550, 10 positive and 10 negative" in auto_bad["reason"]
    assert "AUROC n/a, 1 positive and 0 negative responses scored" in decide(ExtractConfig(), unscored)["reason"]
    assert decide(ExtractConfig(filter="always"), bad)["applied"] is True
    assert "although the judge failed" in decide(ExtractConfig(filter="always"), bad)["reason"]
    assert decide(ExtractConfig(filter="never"), good)["applied"] is False
    with pytest.raises(PersonascopeError, match="filter 'always' needs trait scores"):
        decide(ExtractConfig(filter="always", judge=False), None)


def test_too_few_pairs_is_a_clear_error(tiny):
    samples = [judged("positive", str(i), 10) for i in range(5)] + [judged("negative", str(i), 0) for i in range(5)]
    with pytest.raises(PersonascopeError) as err:
        apply_filter(samples, ExtractConfig(min_pairs=4), applied=True)
    message = str(err.value)
    assert "only 0 of 5 positive/negative pairs passed the filter (0 of 5 positives with trait >= 50" in message
    assert "5 of 5 negatives with trait < 50" in message and "--filter never" in message and "--min-pairs" in message
    with pytest.raises(PersonascopeError, match="only 6 of 6 positive/negative pairs are available but min_pairs is 10"):
        extract_vector(SPEC, tiny, config=ExtractConfig(**{**FAST, "min_pairs": 10}))


def test_judged_extraction_filters_when_the_judge_passes(tiny, monkeypatch):
    """A stand-in judge that scores by the side's word: the sanity check passes, so auto filters."""
    import personascope.judges as judges
    from personascope.judges import Judgment

    class Judge:
        def __init__(self, scores):
            self.scores = scores

        def score(self, questions, answers, progress=None):
            return [Judgment(score=self.scores.pop(0), reason="", refusal=False, number_mass=1.0) for _ in answers]

    # Extraction order: per pair and question, positive then negative. The last pair's positive fails.
    trait = [90.0, 10.0] * 5 + [20.0, 10.0]
    monkeypatch.setattr(judges, "trait_judge", lambda spec, model, cache=None: Judge(list(trait)))
    monkeypatch.setattr(judges, "coherence_judge", lambda model, cache=None: Judge([80.0] * 12))
    result = extract_vector(SPEC, tiny, config=ExtractConfig(**{**FAST, "judge": True}))
    assert result.meta["sanity_check"]["auroc"] > 0.9 and result.meta["filter"]["applied"] is True
    assert result.meta["counts"]["pairs_kept"] == 5 and result.meta["judge"]["model"] == tiny.name
    dropped = [s for s in result.samples if s.split == "extract" and not s.kept]
    assert [(s.side, s.trait) for s in dropped] == [("positive", 20.0), ("negative", 10.0)]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_responses_from_jsonl_and_persona_vectors_csv_agree(tiny, tmp_path):
    questions = ["How are you?", "What is the sky like?", "Tell me a story.", "Do you like cats?"]
    pos = [{"question": q, "system": "Be very happy.", "answer": f"Great {i}!", "score": s, "coherence": 90}
           for i, (q, s) in enumerate(zip(questions, [90, 80, 20, 70]))]
    neg = [{"question": q, "system": "Be very sad.", "answer": f"Awful {i}.", "score": 5, "coherence": 90}
           for i, q in enumerate(questions)]
    config = ExtractConfig(**{**FAST, "filter": "always", "min_pairs": 2})
    a = extract_from_responses(SPEC, tiny, write_jsonl(tmp_path / "p.jsonl", pos), write_jsonl(tmp_path / "n.jsonl", neg), config=config)
    assert a.meta["filter"]["applied"] and a.meta["counts"]["pairs_kept"] == 3 and a.meta["source"]["matched_rows"]
    assert [s.kept for s in a.samples if s.split == "extract" and s.side == "negative"] == [True, True, False, True]

    # persona_vectors' eval_persona.py: `prompt` is the chat-formatted prompt, the score column is the trait name.
    tok = tiny.engine.tokenizer
    for name, rows in (("p.csv", pos), ("n.csv", neg)):
        with open(tmp_path / name, "w", newline="") as fh:
            writer = csv.DictWriter(fh, ["question", "prompt", "answer", "question_id", "happy", "coherence"])
            writer.writeheader()
            for i, r in enumerate(rows):
                messages = [{"role": "system", "content": r["system"]}, {"role": "user", "content": r["question"]}]
                prompt = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
                writer.writerow({"question": r["question"], "prompt": prompt, "answer": r["answer"], "question_id": i,
                                 "happy": r["score"], "coherence": r["coherence"]})
    b = extract_from_responses(SPEC, tiny, tmp_path / "p.csv", tmp_path / "n.csv", config=config)
    assert all(s.prompt_text for s in b.samples if s.split == "extract")
    assert torch.allclose(a.vector.data, b.vector.data, atol=1e-5)


def test_response_file_errors(tiny, tmp_path):
    write_jsonl(tmp_path / "bad.jsonl", [{"text": "x"}])
    with pytest.raises(PersonascopeError, match="needs a 'question' .* column"):
        extract_from_responses(SPEC, tiny, tmp_path / "bad.jsonl", tmp_path / "bad.jsonl", config=ExtractConfig(**FAST))
    with pytest.raises(PersonascopeError, match="no response file"):
        extract_from_responses(SPEC, tiny, tmp_path / "nope.csv", tmp_path / "nope.csv", config=ExtractConfig(**FAST))


def test_cli_extract_and_show(tmp_path, tiny_dir, monkeypatch):
    monkeypatch.setenv("PERSONASCOPE_HOME", str(tmp_path / "home"))
    spec = tmp_path / "happy.json"
    spec.write_text(SPEC.model_dump_json())
    out = tmp_path / "vec"
    args = ["vectors", "extract", str(spec), "--model", f"hf/{tiny_dir}", "--out", str(out), "--no-judge",
            "--max-tokens", "5", "--eval-questions", "4", "--min-pairs", "2", "--no-progress"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "chosen layer" in result.output and "held-out AUROC" in result.output and "off (--no-judge)" in result.output
    assert "text only" in result.output
    shown = runner.invoke(app, ["vectors", "show", str(out), "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert [set(r) for r in data["layers"]] == [{"layer", "auroc", "cohens_d"}] * 4
    assert data["chosen_layer"] in range(4) and data["trait"] == "happy" and data["filter"]["policy"] == "auto"
    human = runner.invoke(app, ["vectors", "show", str(out)])
    assert human.exit_code == 0 and "held-out quality per layer" in human.output and "chosen" in human.output
    bad = runner.invoke(app, [*args[:-1], "--samples", "3"])
    assert bad.exit_code == 2 and "temperature" in bad.output
    # --select-layer-by in_context restores the choice by responses read after their system prompt.
    old = runner.invoke(app, [*args, "--select-layer-by", "in_context", "--out", str(tmp_path / "old")])
    assert old.exit_code == 0, old.output
    meta = json.loads((tmp_path / "old" / "meta.json").read_text())
    assert meta["layer_selected_by"] == "in_context" and meta["chosen_layer"] == choose_layer(meta["layers"])
    wrong = runner.invoke(app, [*args, "--select-layer-by", "prompt"])
    assert wrong.exit_code == 2 and "select_layer_by" in wrong.output


# -- the embedded model ------------------------------------------------------


@pytest.fixture(scope="module")
def smol(tmp_path_factory):
    """smollm2 behind a cache of this module's own: every run measures afresh."""
    return Model("smollm2", Cache(tmp_path_factory.mktemp("smol") / "cache.sqlite"))


def test_smollm2_prompted_persona_separates_held_out(smol):
    """Positive control: the assistant-vs-pirate contrast, which the 135M model
    follows readily, separates held-out responses at the chosen layer."""
    config = ExtractConfig(judge=False, n_questions=4, eval_questions=8, max_tokens=32)
    result = extract_vector("assistant", smol, config=config)
    best = result.layers[result.chosen_layer]
    assert best["auroc"] >= 0.9 and best["cohens_d"] > 1, result.layers


def test_smollm2_optimistic_steering_moves_sentiment_both_ways(smol):
    """Steering with the optimistic vector raises VADER sentiment and steering
    against it lowers it, each difference from unsteered with a bootstrap CI
    that excludes 0. Layer 15 (the middle of 30): steering works best there,
    while the held-out AUROC of this weakly followed trait peaks late."""
    from personascope.judges import get_scorer
    from personascope.stats import bootstrap_diff
    from personascope.traits import load_trait
    from personascope.vectors import steer_check

    config = ExtractConfig(judge=False, n_questions=6, eval_questions=2, max_tokens=32)
    result = extract_vector("optimistic", smol, config=config)
    path = result.save(smol.cache.path.parent / "optimistic")
    spec = load_trait("optimistic")
    questions = (spec.questions.eval + spec.questions.extract)[:20]
    rows = steer_check(smol, path, 15, questions, [0, 10, -10], max_tokens=32, scorers={"sentiment": get_scorer("sentiment")})
    base, up, down = (r.scores["sentiment"] for r in rows)
    raised, lowered = bootstrap_diff(up, base), bootstrap_diff(down, base)
    assert raised.low > 0, raised
    assert lowered.high < 0, lowered


# Held-out AUROC from the response text alone, measured with ACCEPTANCE below (docs/persona-vectors.md,
# the "AUROC, text only" column): the 135M model follows these instructions weakly enough that, read
# without the eliciting system prompt, they miss 0.9. Measured when the layer was still chosen in context
# (the quickstart's text-only choice gives evil 0.83); not yet remeasured under the text-only choice.
WEAK = {"evil": 0.75, "impolite": 0.81, "apathetic": 0.79, "humorous": 0.52, "optimistic": 0.77}
# Mean projection at coefs 1, 2, 4 on all 20 held-out questions, measured with ACCEPTANCE: at its late
# chosen layer steering along optimistic does not move what the text carries (it does at layer 15).
FLAT = {"optimistic": "-25.8, -21.8, -24.2 at layer 28"}
ACCEPTANCE = dict(n_questions=5, eval_questions=10, max_tokens=48)


@pytest.fixture(scope="module")
def accepted(smol):
    """One judged extraction and steering check per trait, shared by the acceptance tests."""
    from personascope.traits import load_trait
    from personascope.vectors import steer_check

    done = {}

    def run(trait):
        if trait not in done:
            result = extract_vector(trait, smol, config=ExtractConfig(**ACCEPTANCE))
            path = result.save(smol.cache.path.parent / f"accept-{trait}")
            # All 20 held-out questions: with 10, coefs 1 and 2 sat within noise of each other.
            questions = load_trait(trait).questions.eval[:20]
            rows = steer_check(smol, path, result.chosen_layer, questions, [1, 2, 4], max_tokens=32)
            done[trait] = result, rows
        return done[trait]

    return run


TRAITS = ["assistant", "evil", "impolite", "apathetic", "humorous", "optimistic"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "trait",
    [t if t not in FLAT else pytest.param(t, marks=pytest.mark.xfail(reason=f"steering too weak at coefs 1, 2: measured {FLAT[t]}"))
     for t in TRAITS],
)
def test_acceptance_steering_raises_projection_monotonically(accepted, trait):
    from personascope.vectors._steercheck import monotonic

    _, rows = accepted(trait)
    assert monotonic(rows), [(r.coef, r.projection) for r in rows]


@pytest.mark.slow
@pytest.mark.parametrize(
    "trait",
    [t if t not in WEAK else pytest.param(t, marks=pytest.mark.xfail(reason=f"smollm2 follows it weakly: measured {WEAK[t]}"))
     for t in TRAITS],
)
def test_acceptance_held_out_auroc(accepted, trait):
    result, _ = accepted(trait)
    row = result.layers_text_only[result.chosen_layer]  # read without the eliciting system prompt
    assert row["auroc"] >= 0.9, (row, result.layers_in_context[result.chosen_layer])
