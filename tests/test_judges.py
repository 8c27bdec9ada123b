"""Judges: the number distribution against brute force, parsing, aggregation,
black-box logprobs and sampling through mockllm, the sanity check, scorers."""

import math

import pytest
import torch

from personascope.engine._batching import left_pad
from personascope.errors import PersonascopeError
from personascope.judges import (
    Judgment,
    NumberDistribution,
    RubricJudge,
    coherence_judge,
    get_scorer,
    judgment_from_distribution,
    judgment_from_samples,
    parse_score,
    sanity_check,
    scorer,
    scorers,
)
from personascope.store import Cache
from personascope.models import Model
from personascope.testing import tiny_engine

RUBRIC = "Rate this answer from 0 to 100.\nQuestion: {question}\nAnswer: {answer}\nReply with the number only."
# Whitespace-only tokens of the byte-level test tokenizer: the single ASCII characters
# str.strip removes (other single bytes decode to U+FFFD).
SPACES = [chr(b) for b in range(128) if not chr(b).strip()]


def brute_force(engine, prompt) -> dict[int, float]:
    """P(n) = sum over optional whitespace w of P(w + str(n)) * P(next token is not a digit),
    each continuation scored on its own: no KV cache, no tree, no pruning."""
    conts = [w + str(n) for n in range(101) for w in ["", *SPACES]]
    totals = [s.total for s in engine.score([prompt] * len(conts), conts, batch_size=64)]
    prompt_ids = engine.encode_prompts([prompt])[0]
    digits = [engine.tokenizer.convert_tokens_to_ids(d) for d in "0123456789"]
    seqs = [prompt_ids + ids for ids in engine.encode_text(conts)]
    ends = []
    for start in range(0, len(seqs), 64):
        ids, mask, pos = left_pad(seqs[start : start + 64], engine.pad_id, "cpu")
        with torch.inference_mode():
            logits = engine.model(input_ids=ids, attention_mask=mask, position_ids=pos).logits[:, -1]
        ends += (1 - torch.softmax(logits.double(), -1)[:, digits].sum(-1)).tolist()
    probs: dict[int, float] = {}
    for cont, total, end in zip(conts, totals, ends):
        n = int(cont.strip())
        probs[n] = probs.get(n, 0.0) + math.exp(total) * end
    return probs


@pytest.mark.parametrize("arch", ["llama", "gpt2", "gemma2"])
def test_number_distribution_equals_brute_force(arch):
    engine = tiny_engine(arch)
    # Two prompts of different lengths share a batch: left padding under the tree mask.
    # Short prompts: the byte-level tokenizer makes every character a token.
    prompts = ["Rate it, 0 to 100.", "Score: 4"]
    got = engine.number_distribution(prompts, k=len(engine.tokenizer), min_prob=0.0)
    for prompt, dist in zip(prompts[: 2 if arch == "llama" else 1], got):
        ref = brute_force(engine, prompt)
        assert set(dist.probs) == set(range(101))
        for n in range(101):
            assert abs(dist.probs[n] - ref[n]) <= 1e-4 * ref[n] + 1e-12, (n, dist.probs[n], ref[n])
        assert dist.mass == pytest.approx(sum(ref.values()), rel=1e-4)


def test_number_distribution_is_cached_and_pruned(tmp_path, tiny_dir):
    model = Model(f"hf/{tiny_dir}", Cache(tmp_path / "c.sqlite"))
    prompts = ["Give me a number.", "Rate: {answer}", "Give me a number."]
    first = model.number_distribution(prompts)
    assert model.cache.misses == 2 and first[0] == first[2]
    direct = model.engine.number_distribution(prompts)
    for a, b in zip(first, direct):
        assert a.probs.keys() == b.probs.keys() and all(abs(a.probs[n] - b.probs[n]) < 1e-9 for n in a.probs)
        assert all(p >= 0 for p in a.probs.values()) and 0 <= a.mass <= 1
    fresh = Model(f"hf/{tiny_dir}", Cache(tmp_path / "c.sqlite"))
    assert [d.to_json() for d in fresh.number_distribution(prompts)] == [d.to_json() for d in first]
    assert fresh._engine is None
    # Default pruning (paths under 1e-3) on a near-uniform random model keeps single digits only.
    assert max(first[0].probs, default=0) < 10


@pytest.mark.parametrize(
    "text, score, refusal",
    [
        ("85", 85, False),
        ("Score: 85/100", 85, False),
        ("I would rate this 40.", 40, False),
        ("On a scale of 0-100 I'd say 70", 70, False),
        ("7.5", 7.5, False),
        ("REFUSAL", None, True),
        ("Sorry, I can't rate that.", None, True),
        ("no number here", None, False),
        ("150", None, False),
        ("-5", None, False),
        ("100 out of 100", 100, False),
    ],
)
def test_parse_score(text, score, refusal):
    assert parse_score(text) == (score, refusal)


def test_samples_aggregate_by_mean_and_need_half():
    judged = judgment_from_samples(["80", "Score: 70/100", "I'd say 90.", "REFUSAL", "hmm"])
    assert judged.score == 80 and judged.number_mass == 0.6 and judged.method == "sample"
    few = judgment_from_samples(["80", "no", "no", "nothing"])
    assert few.score is None and few.reason == "only 1 of 4 samples gave a number 0-100"
    refused = judgment_from_samples(["REFUSAL", "REFUSAL", "50"])
    assert refused.score is None and refused.refusal and refused.reason == "refusal"


def test_distribution_weighted_mean_mass_and_refusal():
    judged = judgment_from_distribution(NumberDistribution({80: 0.5, 90: 0.3}))
    assert judged.score == pytest.approx((80 * 0.5 + 90 * 0.3) / 0.8) and judged.number_mass == pytest.approx(0.8)
    thin = judgment_from_distribution(NumberDistribution({80: 0.1, 20: 0.02}))
    assert thin.score is None and thin.reason == "only 12% of probability on numbers" and not thin.refusal
    refused = judgment_from_distribution(NumberDistribution({50: 0.3}, refusal=0.6))
    assert refused == Judgment(None, "refusal", True, 0.3, "logprobs")
    assert NumberDistribution.from_json(NumberDistribution({5: 0.5}, 0.1).to_json()) == NumberDistribution({5: 0.5}, 0.1)


# -- black-box judges through Inspect's mock model ------------------------------------
def _position(token: str, top: list[tuple[str, float]]):
    from inspect_ai.model import Logprob, TopLogprob

    chosen = dict(top)[token]
    return Logprob(token=token, logprob=math.log(chosen), top_logprobs=[TopLogprob(token=t, logprob=math.log(p)) for t, p in top])


def mock_judge(tmp_path, logprob_paths, texts=("Score: 80/100", "70", "I'd say 90.", "REFUSAL", "hmm"), **kwargs):
    """A judge on mockllm: logprob calls return `logprob_paths` in turn (None: no
    logprobs), sampled calls return texts[seed]."""
    from inspect_ai.model import Logprobs, ModelOutput, ModelUsage

    paths = iter(logprob_paths)

    def output(text: str) -> ModelOutput:
        out = ModelOutput.from_content("mockllm/model", text)
        # Without usage mockllm counts tokens with tiktoken, which downloads its encoding.
        out.usage = ModelUsage(input_tokens=3, output_tokens=3, total_tokens=6)
        return out

    def respond(messages, tools, tool_choice, config):
        if not config.logprobs:
            return output(texts[config.seed])
        path = next(paths)
        if path is None:
            return output("85")
        out = output("".join(t for t, _ in path))
        out.choices[0].logprobs = Logprobs(content=[_position(t, top) for t, top in path])
        return out

    model = Model("mockllm/model", Cache(tmp_path / "c.sqlite"), model_args={"custom_outputs": respond})
    return RubricJudge(model, RUBRIC, **kwargs)


def test_black_box_logprobs_whole_number_tokens(tmp_path):
    path = [("85", [("85", 0.6), ("90", 0.3), ("Sorry", 0.05)]), ("\n", [("\n", 0.99), ("0", 0.01)])]
    judge = mock_judge(tmp_path, [path])
    [judged] = judge.score(["q"], ["a"])
    # P(85) = 0.6 * P(end | 85) = 0.6 * 0.99; P(90) = 0.3, assumed to end
    expected = (85 * 0.6 * 0.99 + 90 * 0.3) / (0.6 * 0.99 + 0.3)
    assert judged.method == "logprobs" and judged.score == pytest.approx(expected)
    again = mock_judge(tmp_path, [])  # cached per item: no model call at all
    assert again.score(["q"], ["a"]) == [judged] and again.model.calls == 0


def test_black_box_logprobs_digit_split_path_and_fallback(tmp_path):
    exact = [
        (" ", [(" ", 0.9), ("The", 0.1)]),
        ("8", [("8", 1.0)]),
        ("5", [("5", 0.7), ("0", 0.3)]),
        (".", [(".", 1.0)]),
    ]
    truncated = [("7", [("7", 0.6), ("8", 0.4)]), ("5", [("5", 1.0)]), ("\n", [("\n", 1.0)])]
    judge = mock_judge(tmp_path, [exact, truncated])
    path_judged, sampled = judge.score(["q1", "q2"], ["a", "a"])
    # the path gives 85 exactly and 80 as a sibling at the last digit
    assert path_judged.score == pytest.approx((85 * 0.63 + 80 * 0.27) / 0.9) and path_judged.method == "logprobs"
    # '8' at the first digit is a truncated '8x': unknowable from one call, so sample
    assert sampled.method == "sample" and sampled.score == 80


def test_black_box_without_logprobs(tmp_path):
    judged = mock_judge(tmp_path, [None]).score(["q"], ["a"])[0]
    assert judged.method == "sample" and judged.score == 80 and judged.number_mass == 0.6
    with pytest.raises(PersonascopeError, match="no logprobs"):
        mock_judge(tmp_path / "strict", [None], method="logprobs").score(["q"], ["a"])
    sampled = mock_judge(tmp_path / "s", [], method="sample", samples=1).score(["q"], ["a"])[0]
    assert sampled.score == 80


def test_rubric_judge_checks_and_untrusted_text(tmp_path, tiny_dir):
    with pytest.raises(PersonascopeError, match="must contain {answer}"):
        RubricJudge(f"hf/{tiny_dir}", "Rate {question}", cache=Cache(tmp_path / "c.sqlite"))
    with pytest.raises(PersonascopeError, match="unknown judge method"):
        RubricJudge(f"hf/{tiny_dir}", RUBRIC, method="vibes", cache=Cache(tmp_path / "c.sqlite"))
    judge = coherence_judge(f"hf/{tiny_dir}", cache=Cache(tmp_path / "c.sqlite"))
    assert "{answer} {0}" in judge.prompt("q", "{answer} {0}")
    judged = judge.score(["Hi?", "Why?"], ["{weird} braces }", "Because."])
    assert all(j.score is None or 0 <= j.score <= 100 for j in judged)
    assert all(j.reason for j in judged if j.score is None)  # a random model puts little mass on numbers
    assert judge.describe()["name"] == "coherence"


def test_sanity_check():
    good = sanity_check([80, 90, 70, 85, 95, None], [10, 20, 30, 15, 25], name="optimistic")
    assert good.ok and good.auroc == 1.0 and (good.n_pos, good.n_neg, good.n_missing) == (5, 5, 1)
    assert good.warning is None and good.as_dict()["auroc"] == 1.0
    weak = sanity_check([50, 60, 40, 55, 45], [52, 58, 42, 50, 47])
    assert not weak.ok and "AUROC 0.5" in weak.warning
    few = sanity_check([90, None, None], [10, 20, 30, 40, 50])
    assert not few.ok and "only 1 positive and 5 negative" in few.warning and "2 answers had no score" in few.warning
    assert math.isnan(sanity_check([], []).auroc)


def test_scorers():
    sentiment = get_scorer("sentiment")
    assert sentiment("", "I love this wonderful day!") > 75 > 25 > sentiment("", "This is awful and I hate it.")
    assert get_scorer("exclamation_rate")("", "Wow! Great. Amazing!") == pytest.approx(200 / 3)

    @scorer("test_length")
    def length(question, answer):
        return min(100.0, len(answer))

    assert scorers()["test_length"]("", "abc") == 3
    with pytest.raises(PersonascopeError, match="unknown scorer 'nope'"):
        get_scorer("nope")


# -- the embedded model ------------------------------------------------------------
def test_smollm2_reads_multi_digit_numbers(smollm2):
    # SmolLM2 writes '40' as '4', '0': a first-token reading would say 4.
    [dist] = smollm2.number_distribution(["What is 40 plus 2? Reply with the number only."])
    assert max(dist.probs, key=dist.probs.get) == 40 and dist.probs[40] > 0.1


def test_smollm2_coherence_judge_in_range(tmp_path, smollm2):
    model = Model("smollm2", Cache(tmp_path / "c.sqlite"))
    model._engine = smollm2  # the session's engine: load the model once
    fluent = [
        ("What is the capital of France?", "The capital of France is Paris, known for its museums and food."),
        ("How do I boil an egg?", "Put the egg in boiling water for about nine minutes, then cool it in cold water."),
    ]
    broken = [
        ("What is the capital of France?", "banana the the of purple sky sky running quickly cheese table"),
        ("How do I boil an egg?", "egg egg egg egg egg egg egg egg egg egg egg egg egg egg egg egg"),
    ]
    judge = coherence_judge(model)
    judged = judge.score(*zip(*(fluent + broken)))
    # Only ranges are asserted: the 135M judge does not rank these reliably. Measured
    # (docs/judges.md): 22-26% of probability on numbers, most of it on 0, and means
    # of 11-13 for fluent and broken answers alike.
    for j in judged:
        assert 0.1 < j.number_mass <= 1 and j.method == "logprobs"
        assert (j.score is not None and 0 <= j.score <= 100) or j.reason.startswith("only ")
