"""Tier 1: batched work equals one-by-one work on tiny random models."""

import pytest
import torch

from personascope.testing import tiny_engine

PROMPTS = ["hi", "tell me a long story about cats, dogs and the sea", "why?", [
    {"role": "system", "content": "be brief"}, {"role": "user", "content": "a b c d e f"}]]
CONTINUATIONS = ["x y", "zzz zz", "q", "fine, thanks"]
ARCHS = ["llama", "qwen2", "qwen3", "mistral", "gemma2", "gemma3", "gpt2"]


@pytest.fixture(scope="module", params=ARCHS)
def engine(request):
    return tiny_engine(request.param)


def test_batched_generation_matches_one_by_one(engine):
    batched = engine.generate(PROMPTS, max_new_tokens=10, logprobs=True, batch_size=len(PROMPTS))
    single = [engine.generate([p], max_new_tokens=10, logprobs=True)[0] for p in PROMPTS]
    for b, s in zip(batched, single):
        assert b.token_ids == s.token_ids
        assert len(b.logprobs) == len(b.token_ids)
        assert max(abs(x - y) for x, y in zip(b.logprobs, s.logprobs)) < 1e-4


def test_batched_scoring_matches_one_by_one(engine):
    batched = engine.score(PROMPTS, CONTINUATIONS, batch_size=4)
    single = [engine.score([p], [c])[0] for p, c in zip(PROMPTS, CONTINUATIONS)]
    for b, s in zip(batched, single):
        assert b.token_ids == s.token_ids
        assert torch.allclose(torch.tensor(b.logprobs), torch.tensor(s.logprobs), atol=1e-4)


def test_generation_logprobs_equal_scoring(engine):
    """The logprobs generate reports are the ones a scoring pass gives its text."""
    gen = engine.generate(PROMPTS[:2], max_new_tokens=6, logprobs=True)
    for prompt, g in zip(PROMPTS[:2], gen):
        ids = torch.tensor([engine.encode_prompts([prompt])[0] + g.token_ids])
        with torch.inference_mode():
            logits = engine.model(input_ids=ids).logits[0].float().log_softmax(-1)
        start = ids.shape[1] - len(g.token_ids)
        expected = [logits[start + j - 1, t].item() for j, t in enumerate(g.token_ids)]
        assert g.logprobs == pytest.approx(expected, abs=1e-4)


def test_top_logprobs_are_sorted_and_normalised(engine):
    top = engine.top_logprobs(PROMPTS, k=5)
    for row in top:
        values = [v for _, v in row]
        assert values == sorted(values, reverse=True)
        assert all(v <= 0 for v in values)
        assert sum(torch.tensor(values).exp()) <= 1 + 1e-5


def test_sampling_is_reproducible_with_a_seed(tiny_llama):
    a = tiny_llama.generate(PROMPTS, max_new_tokens=8, temperature=1.0, seed=3)
    b = tiny_llama.generate(PROMPTS, max_new_tokens=8, temperature=1.0, seed=3)
    c = tiny_llama.generate(PROMPTS, max_new_tokens=8, temperature=1.0, seed=4)
    assert [g.token_ids for g in a] == [g.token_ids for g in b]
    assert [g.token_ids for g in a] != [g.token_ids for g in c]


def test_max_new_tokens_and_stop_strings(tiny_llama):
    gens = tiny_llama.generate(PROMPTS, max_new_tokens=5)
    assert all(len(g.token_ids) <= 5 for g in gens)
    assert all(g.finish_reason in ("stop", "length") for g in gens)
    full = tiny_llama.generate(["hi"], max_new_tokens=12)[0]
    assert len(full.text) >= 4
    stop = full.text[2:4]
    cut = tiny_llama.generate(["hi"], max_new_tokens=12, stop=[stop])[0]
    assert cut.finish_reason == "stop"
    assert cut.text == full.text[: full.text.find(stop)]
    assert stop not in cut.text


def test_generation_settings_are_validated(tiny_llama):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        tiny_llama.generate(["hi"], max_new_tokens=0)
    with pytest.raises(ValidationError):
        tiny_llama.generate(["hi"], max_tokens=5)  # the engine's name is max_new_tokens
