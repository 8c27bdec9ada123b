"""Tier 1: pooled capture equals hidden states pooled by hand."""

import pytest
import torch

from personascope.errors import PersonascopeError
from personascope.testing import tiny_engine

PROMPTS = ["hello there", "a much longer prompt about many different things", "x"]
RESPONSES = ["fine", "it was a long day at the office", "ok then"]


def _by_hand(engine, prompt, response):
    """One sample, output_hidden_states=True, pooled by hand (the reference method)."""
    p = engine.encode_prompts([prompt])[0]
    r = engine.encode_text([response])[0]
    ids = torch.tensor([p + r])
    with torch.inference_mode():
        hs = engine.model(input_ids=ids, output_hidden_states=True).hidden_states
    # Layer i is block i's output: hidden_states[i + 1]. The last entry of
    # hidden_states has the final norm applied in some models, so compare the
    # blocks before it.
    per_layer = torch.stack([h[0] for h in hs[1:]])  # [layers, T, D]
    return {
        "response_mean": per_layer[:, len(p):].mean(1),
        "prompt_mean": per_layer[:, : len(p)].mean(1),
        "last_prompt": per_layer[:, len(p) - 1],
    }


@pytest.mark.parametrize("arch", ["llama", "qwen2", "gemma2", "gpt2"])
def test_capture_equals_hand_pooled_hidden_states(arch):
    engine = tiny_engine(arch)
    layers = list(range(engine.n_layers - 1))
    acts = engine.capture(PROMPTS, RESPONSES, layers=layers, poolings=("response_mean", "prompt_mean", "last_prompt"), batch_size=3)
    for i, (p, r) in enumerate(zip(PROMPTS, RESPONSES)):
        ref = _by_hand(engine, p, r)
        for pooling in acts.data:
            assert torch.allclose(acts[pooling][i], ref[pooling][layers], atol=1e-5), (arch, pooling)


def test_last_layer_is_the_block_output(tiny_llama):
    """Capture of the last layer equals the raw block output (before the final norm)."""
    engine = tiny_llama
    seen = {}
    handle = engine.blocks[-1].register_forward_hook(lambda m, a, o: seen.setdefault("h", o[0] if isinstance(o, tuple) else o))
    try:
        ids = torch.tensor([engine.encode_prompts(["hi"])[0]])
        with torch.inference_mode():
            engine.model(input_ids=ids)
    finally:
        handle.remove()
    acts = engine.capture(["hi"], layers=[engine.n_layers - 1], poolings=("last_prompt",))
    assert torch.allclose(acts["last_prompt"][0, 0], seen["h"][0, -1], atol=1e-6)


def test_capture_subset_and_order_of_layers(tiny_llama):
    full = tiny_llama.capture(PROMPTS, RESPONSES, batch_size=2)
    part = tiny_llama.capture(PROMPTS, RESPONSES, layers=[2, 0], batch_size=3)
    assert part.layers == [2, 0]
    assert torch.allclose(part["response_mean"][:, 0], full["response_mean"][:, 2], atol=1e-5)
    assert torch.allclose(part["response_mean"][:, 1], full["response_mean"][:, 0], atol=1e-5)


def test_empty_response_gives_nan_row(tiny_llama):
    acts = tiny_llama.capture(["hi", "yo"], ["", "ok"])
    assert torch.isnan(acts["response_mean"][0]).all()
    assert not torch.isnan(acts["response_mean"][1]).any()


def test_capture_errors(tiny_llama):
    with pytest.raises(PersonascopeError, match="needs responses"):
        tiny_llama.capture(["hi"])
    with pytest.raises(PersonascopeError, match="unknown pooling"):
        tiny_llama.capture(["hi"], ["x"], poolings=("max",))
    with pytest.raises(PersonascopeError, match="out of range"):
        tiny_llama.capture(["hi"], ["x"], layers=[99])


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
def test_tokens_pooling_keeps_every_token_of_each_sample(arch):
    """`tokens` gives each sample's own tokens (no padding) at the asked layers, in order,
    beside pooled rows that stay as they were; and prompts alone need no responses."""
    engine = tiny_engine(arch)
    layers = [2, 0]
    acts = engine.capture(PROMPTS, RESPONSES, layers=layers, poolings=("tokens", "response_mean"), batch_size=2)
    assert acts.layers == layers and len(acts["tokens"]) == len(PROMPTS)
    for i, (p, r) in enumerate(zip(PROMPTS, RESPONSES)):
        n = len(engine.encode_prompts([p])[0]) + len(engine.encode_text([r])[0])
        ids = torch.tensor([engine.encode_prompts([p])[0] + engine.encode_text([r])[0]])
        with torch.inference_mode():
            hs = engine.model(input_ids=ids, output_hidden_states=True).hidden_states
        expected = torch.stack([hs[layer + 1][0] for layer in layers])
        assert acts["tokens"][i].shape == (2, n, engine.hidden_size)
        assert torch.allclose(acts["tokens"][i], expected, atol=1e-5), (arch, i)
        assert torch.allclose(acts["response_mean"][i], _by_hand(engine, p, r)["response_mean"][layers], atol=1e-5)
    prompts_only = engine.capture(PROMPTS, layers=[1], poolings=("tokens",))
    assert [t.shape[1] for t in prompts_only["tokens"]] == [len(x) for x in engine.encode_prompts(PROMPTS)]
