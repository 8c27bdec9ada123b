"""Tier 1: interventions are exact, removable and do what their math says."""

import pytest
import torch

from personascope.engine import Ablate, AddVector, Cap
from personascope.errors import PersonascopeError
from personascope.testing import tiny_engine

PROMPTS = ["hello there", "what is the meaning of this?"]
RESPONSES = ["fine thanks", "nothing at all, really"]


@pytest.fixture(scope="module", params=["llama", "qwen2", "gemma2"])
def engine(request):
    return tiny_engine(request.param)


def _logits(engine):
    ids = torch.tensor([engine.encode_prompts(["hello there"])[0]])
    with torch.inference_mode():
        return engine.model(input_ids=ids).logits.clone()


def _direction(engine, seed=1):
    torch.manual_seed(seed)
    return torch.randn(engine.hidden_size)


def test_removing_interventions_restores_logits_exactly(engine):
    before = _logits(engine)
    d = _direction(engine)
    handle = engine.intervene(AddVector(d, [1, 2], coef=3.0), Ablate(d, [0]), Cap(d, [3], min=-0.1, max=0.1))
    during = _logits(engine)
    handle.remove()
    after = _logits(engine)
    assert not torch.equal(before, during)
    assert torch.equal(before, after)
    with engine.intervene(AddVector(d, [1], coef=2.0)):
        assert not torch.equal(before, _logits(engine))
    assert torch.equal(before, _logits(engine))


def test_coefficient_zero_is_a_no_op(engine):
    before = _logits(engine)
    with engine.intervene(AddVector(_direction(engine), list(range(engine.n_layers)), coef=0.0)):
        assert torch.equal(before, _logits(engine))


def test_add_vector_moves_the_projection_by_coef(engine):
    d = _direction(engine)
    unit = d / d.norm()
    layer = 2
    base = engine.capture(PROMPTS, RESPONSES, layers=[layer])["response_mean"][:, 0] @ unit
    with engine.intervene(AddVector(unit, [layer], coef=5.0)):
        moved = engine.capture(PROMPTS, RESPONSES, layers=[layer])["response_mean"][:, 0] @ unit
    assert torch.allclose(moved - base, torch.full_like(base, 5.0), atol=1e-4)


def test_capping_bounds_the_projection(engine):
    d = _direction(engine)
    unit = d / d.norm()
    layer = 1
    free = _token_projections(engine, layer, unit)
    band = 0.3 * free.abs().max().item()  # tight enough that an inactive cap would show
    with engine.intervene(Cap(d, [layer], min=-band, max=band)):
        acts = engine.capture(PROMPTS, RESPONSES, layers=[layer], poolings=("last_prompt",))
        capped = _token_projections(engine, layer, unit)
    assert (acts["last_prompt"][:, 0] @ unit).abs().max() <= band + 1e-5
    assert capped.abs().max() <= band + 1e-5
    # Tokens inside the band are untouched.
    inside = free.abs() < band
    assert torch.allclose(capped[inside], free[inside], atol=1e-5)


def test_ablation_zeroes_the_projection(engine):
    d = _direction(engine)
    unit = d / d.norm()
    with engine.intervene(Ablate(d, [2])):
        proj = _token_projections(engine, 2, unit)
    assert proj.abs().max() < 1e-4
    assert _token_projections(engine, 2, unit).abs().max() > 1e-2


def _token_projections(engine, layer, unit):
    seen = []
    hook = engine.blocks[layer].register_forward_hook(lambda m, a, o: seen.append(o[0] if isinstance(o, tuple) else o))
    try:
        ids = torch.tensor([engine.encode_prompts(["hello there, how are you?"])[0]])
        with torch.inference_mode():
            engine.model(input_ids=ids)
    finally:
        hook.remove()
    return seen[0][0] @ unit


def test_per_layer_rows_and_thresholds(tiny_llama):
    rows = torch.randn(tiny_llama.n_layers, tiny_llama.hidden_size)
    with tiny_llama.intervene(Cap(rows, [0, 1], max={0: 0.0, 1: 0.5})):
        a0 = tiny_llama.capture(PROMPTS, layers=[0], poolings=("last_prompt",))["last_prompt"][:, 0]
        a1 = tiny_llama.capture(PROMPTS, layers=[1], poolings=("last_prompt",))["last_prompt"][:, 0]
    assert (a0 @ (rows[0] / rows[0].norm())).max() <= 1e-4
    assert (a1 @ (rows[1] / rows[1].norm())).max() <= 0.5 + 1e-4


def test_positions_response_only_leaves_prompt_untouched(tiny_llama):
    d = torch.randn(tiny_llama.hidden_size)
    base = tiny_llama.capture(PROMPTS, RESPONSES, layers=[1], poolings=("prompt_mean", "response_mean"))
    with tiny_llama.intervene(AddVector(d, [1], coef=2.0, positions="response")):
        resp = tiny_llama.capture(PROMPTS, RESPONSES, layers=[1], poolings=("prompt_mean", "response_mean"))
    with tiny_llama.intervene(AddVector(d, [1], coef=2.0, positions="prompt")):
        prom = tiny_llama.capture(PROMPTS, RESPONSES, layers=[1], poolings=("prompt_mean", "response_mean"))
    assert torch.allclose(resp["prompt_mean"], base["prompt_mean"], atol=1e-5)
    assert torch.allclose(resp["response_mean"], base["response_mean"] + 2 * d, atol=1e-4)
    assert torch.allclose(prom["prompt_mean"], base["prompt_mean"] + 2 * d, atol=1e-4)
    assert torch.allclose(prom["response_mean"], base["response_mean"], atol=1e-5)


def test_response_steering_leaves_the_first_token_and_changes_later_ones(tiny_llama):
    """During generation, 'response' positions are the decoding steps."""
    d = torch.randn(tiny_llama.hidden_size) * 50
    base = tiny_llama.generate(PROMPTS, max_new_tokens=8, logprobs=True)
    with tiny_llama.intervene(AddVector(d, [1, 2], positions="response")):
        steered = tiny_llama.generate(PROMPTS, max_new_tokens=8, logprobs=True)
    for b, s in zip(base, steered):
        assert b.token_ids[0] == s.token_ids[0]
        assert b.logprobs[0] == pytest.approx(s.logprobs[0], abs=1e-5)
    assert any(b.token_ids != s.token_ids for b, s in zip(base, steered))


def test_bad_interventions_fail_clearly(tiny_llama):
    with pytest.raises(PersonascopeError, match="hidden size"):
        tiny_llama.intervene(AddVector(torch.randn(7), [0]))
    with pytest.raises(PersonascopeError, match="out of range"):
        tiny_llama.intervene(AddVector(torch.randn(tiny_llama.hidden_size), [99]))
    with pytest.raises(PersonascopeError, match="layer rows"):
        tiny_llama.intervene(AddVector(torch.randn(3, tiny_llama.hidden_size), [0]))
    with pytest.raises(PersonascopeError, match="min, a max"):
        Cap(torch.randn(tiny_llama.hidden_size), [0])
    assert not any(b._forward_hooks for b in tiny_llama.blocks)
