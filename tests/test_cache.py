"""The call cache: per-item keys, partial reuse, what splits keys, black-box models."""

import torch

from personascope.engine import GenerateConfig
from personascope.store import Cache, cache_key
from personascope.models import Model
from personascope.vectors import PersonaVector

PROMPTS = ["hello", "how are you?", "tell me a joke", "what is two plus two?", "bye"]
CONFIG = GenerateConfig(max_new_tokens=5)


def test_cache_key_is_canonical():
    assert cache_key(a=1, b=[1, 2]) == cache_key(b=[1, 2], a=1)
    assert cache_key(a=1) != cache_key(a=2)
    assert len(cache_key(a="x")) == 64


def test_cache_put_get_counts_and_disable(tmp_path):
    cache = Cache(tmp_path / "c.sqlite")
    cache.put_many({"k1": b"one", "k2": b"two"}, op="t")
    assert cache.get_many(["k1", "k3"]) == {"k1": b"one"}
    assert cache.stats() == {"hits": 1, "misses": 1}
    off = Cache(tmp_path / "c.sqlite", enabled=False)
    assert off.get_many(["k1"]) == {} and off.misses == 1
    off.put_many({"k9": b"x"})
    assert len(Cache(tmp_path / "c.sqlite")) == 2


def test_generation_is_cached_per_item(tmp_path, tiny_dir):
    model = Model(f"hf/{tiny_dir}", Cache(tmp_path / "c.sqlite"))
    first = model.generate(PROMPTS[:3], CONFIG)
    assert model.cache.misses == 3 and model.calls == 1
    both = model.generate(PROMPTS, CONFIG)
    assert model.cache.hits == 3 and model.cache.misses == 5
    assert [g.text for g in both[:3]] == [g.text for g in first]
    direct = model.engine.generate(PROMPTS, CONFIG)
    assert [g.text for g in both] == [g.text for g in direct]
    assert [g.token_ids for g in both] == [g.token_ids for g in direct]


def test_everything_that_changes_output_splits_the_key(tmp_path, tiny_dir):
    model = Model(f"hf/{tiny_dir}", Cache(tmp_path / "c.sqlite"))
    model.generate(PROMPTS[:1], CONFIG)
    variants = [
        dict(config=GenerateConfig(max_new_tokens=6)),
        dict(config=GenerateConfig(max_new_tokens=5, temperature=1.0, seed=1)),
        dict(config=GenerateConfig(max_new_tokens=5, temperature=1.0, seed=2)),
        dict(config=CONFIG, system="You are terse."),
    ]
    for kwargs in variants:
        before = model.cache.misses
        model.generate(PROMPTS[:1], **kwargs)
        assert model.cache.misses == before + 1, kwargs
    before = model.cache.hits
    model.generate(PROMPTS[:1], GenerateConfig(max_new_tokens=5, batch_size=3))  # batch size changes nothing
    assert model.cache.hits == before + 1


def test_steering_keys_on_vector_content_not_path(tmp_path, tiny_dir):
    model = Model(f"hf/{tiny_dir}", Cache(tmp_path / "c.sqlite"))
    torch.manual_seed(0)
    data = torch.randn(4, 64) * 10
    PersonaVector(data).save(tmp_path / "a")
    PersonaVector(data.clone()).save(tmp_path / "b")
    steered = model.generate(PROMPTS[:2], CONFIG, interventions=[("steer", f"{tmp_path / 'a'}@1:4")])
    assert model.cache.misses == 2
    again = model.generate(PROMPTS[:2], CONFIG, interventions=[("steer", f"{tmp_path / 'b'}@1:4")])
    assert model.cache.hits == 2 and [g.text for g in again] == [g.text for g in steered]
    PersonaVector(-data).save(tmp_path / "b")  # same path, new content: a miss
    model.generate(PROMPTS[:2], CONFIG, interventions=[("steer", f"{tmp_path / 'b'}@1:4")])
    assert model.cache.misses == 4


def test_capture_and_score_round_trip(tmp_path, tiny_dir):
    model = Model(f"hf/{tiny_dir}", Cache(tmp_path / "c.sqlite"))
    responses = ["fine thanks", "blue", "no", "four", "ciao"]
    acts = model.capture(PROMPTS, responses, layers=[1, -1], poolings=["response_mean", "last_prompt"])
    direct = model.engine.capture(PROMPTS, responses, layers=[1, 3], poolings=["response_mean", "last_prompt"])
    again = Model(f"hf/{tiny_dir}", Cache(tmp_path / "c.sqlite")).capture(
        PROMPTS, responses, layers=[1, 3], poolings=["last_prompt", "response_mean"]
    )
    for pooling in ("response_mean", "last_prompt"):
        assert torch.equal(acts[pooling], again[pooling])
        assert torch.allclose(acts[pooling], direct[pooling], atol=1e-6)
    assert acts.layers == [1, 3]
    scored = model.score(PROMPTS, responses)
    assert [s.token_ids for s in scored] == [s.token_ids for s in model.engine.score(PROMPTS, responses)]
    top = model.top_logprobs(PROMPTS[:2], k=3)
    assert len(top) == 2 and len(top[0]) == 3 and top == model.top_logprobs(PROMPTS[:2], k=3)


def test_fully_cached_calls_never_load_the_model(tmp_path, tiny_dir):
    Model(f"hf/{tiny_dir}", Cache(tmp_path / "c.sqlite")).generate(PROMPTS, CONFIG)
    fresh = Model(f"hf/{tiny_dir}", Cache(tmp_path / "c.sqlite"))
    fresh.generate(PROMPTS, CONFIG)
    assert fresh._engine is None and fresh.calls == 0


def test_black_box_generation_is_cached(tmp_path):
    from inspect_ai.model import ModelOutput, ModelUsage

    def outputs():
        while True:
            out = ModelOutput.from_content("mockllm/model", "a canned answer")
            out.usage = ModelUsage(input_tokens=3, output_tokens=3, total_tokens=6)
            yield out

    args = {"custom_outputs": outputs()}
    model = Model("mockllm/model", Cache(tmp_path / "c.sqlite"), model_args=args)
    assert model.generate(["hi", "there"], CONFIG)[0].text == "a canned answer"
    # the generator object is not part of the key, so a new one hits the same entries
    again = Model("mockllm/model", Cache(tmp_path / "c.sqlite"), model_args={"custom_outputs": outputs()})
    assert again.generate(["hi", "there"], CONFIG)[1].text == "a canned answer" and again.calls == 0
