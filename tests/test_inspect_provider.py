"""The `personascope/...` Inspect provider: a tiny random engine for the mechanics,
one short eval on the embedded SmolLM2 for the real path."""

import asyncio
import subprocess
import sys

import pytest
import torch
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.model import ChatMessageSystem, ChatMessageUser, GenerateConfig, get_model
from inspect_ai.scorer import includes
from inspect_ai.solver import generate
from inspect_ai.tool import ToolInfo

from personascope.errors import PersonascopeError
from personascope.inspect_provider import register_engine, unregister_engine
from personascope.inspect_provider._api import spec_list, to_prompt
from personascope.testing import tiny_engine
from personascope.vectors import PersonaVector

PROMPTS = ["hi", "tell me a story", "what is two plus two, exactly?", "ok", "name three colours", "why?"]


@pytest.fixture(scope="module")
def engine():
    return tiny_engine("llama")


@pytest.fixture(scope="module")
def name(engine):
    model = register_engine("tiny-test", engine)
    yield model
    unregister_engine("tiny-test")


@pytest.fixture(scope="module")
def vec(engine, tmp_path_factory):
    """A unit-norm random direction per layer, saved as a vector directory."""
    gen = torch.Generator().manual_seed(1)
    data = torch.nn.functional.normalize(torch.randn(engine.n_layers, engine.hidden_size, generator=gen), dim=-1)
    return str(PersonaVector(data, {"name": "random"}).save(tmp_path_factory.mktemp("vec") / "random"))


def model(name, max_tokens=10, **args):
    config = GenerateConfig(max_tokens=max_tokens, **args.pop("config", {}))
    return get_model(name, config=config, memoize=False, **{"batch_wait": 0.05, **args})


def run_all(m, prompts=PROMPTS):
    async def go():
        return await asyncio.gather(*[m.generate(p) for p in prompts])

    return asyncio.run(go())


def texts(outputs):
    return [o.completion for o in outputs]


def projections(outputs, spec):
    return [o.metadata["projections"][spec] for o in outputs]


def test_entry_point_registers_without_heavy_imports():
    # Inspect finds the provider through the `inspect_ai` entry point, as the CLI does.
    code = (
        "import sys; from inspect_ai._util.registry import registry_find; "
        "found = registry_find(lambda i: i.type == 'modelapi' and i.name == 'personascope/personascope'); "
        "assert found, 'provider not registered'; "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'heavy import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_eval_of_a_tiny_task_completes(name, vec, tmp_path):
    task = Task(
        dataset=[Sample(input="Say hi", target="hi"), Sample(input="Say bye", target="bye")],
        solver=generate(),
        scorer=includes(),
    )
    spec = f"{vec}@2"
    [log] = eval(task, model=model(name, project=spec), log_dir=str(tmp_path), display="none")
    assert log.status == "success", log.error
    assert len(log.samples) == 2
    for sample in log.samples:
        assert isinstance(sample.output.metadata["projections"][spec], float)
        assert sample.output.usage.output_tokens > 0
        assert sample.output.usage.input_tokens > 0


def test_steering_changes_output_and_projection(name, vec):
    spec = f"{vec}@2"
    plain = run_all(model(name, project=spec))
    steered = run_all(model(name, project=spec, steer=f"{vec}@2:8"))
    assert texts(steered) != texts(plain)
    # At the steered layer the unit direction adds 8 to each token's projection.
    for before, after in zip(projections(plain, spec), projections(steered, spec)):
        assert after - before > 4


def test_coefficient_zero_equals_unsteered(name, vec):
    spec = f"{vec}@2"
    plain = run_all(model(name, project=spec))
    zero = run_all(model(name, project=spec, steer=f"{vec}@1,2:0"))
    assert texts(zero) == texts(plain)
    assert projections(zero, spec) == pytest.approx(projections(plain, spec), abs=1e-5)


def test_ablate_and_cap_args_are_applied(name, vec):
    spec = f"{vec}@2"
    plain = projections(run_all(model(name, project=spec)), spec)
    ablated = projections(run_all(model(name, project=spec, ablate=f"{vec}@2")), spec)
    capped = projections(run_all(model(name, project=spec, cap=f"{vec}@2:1.5:2")), spec)
    assert max(abs(p) for p in ablated) < 1e-4  # nothing left along the direction
    assert all(1.5 - 1e-4 <= p <= 2 + 1e-4 for p in capped)
    assert plain != pytest.approx(ablated)


def test_concurrent_requests_are_batched_and_match_sequential(name, engine, monkeypatch):
    calls = []
    original = engine.generate

    def counting(prompts, *args, **kwargs):
        calls.append(len(prompts))
        return original(prompts, *args, **kwargs)

    monkeypatch.setattr(engine, "generate", counting)
    m = model(name, max_tokens=12, batch_size=8, batch_wait=0.5)
    batched = texts(run_all(m))
    assert calls == [len(PROMPTS)]

    calls.clear()

    async def one_by_one():
        return [await m.generate(p) for p in PROMPTS]

    sequential = texts(asyncio.run(one_by_one()))
    assert calls == [1] * len(PROMPTS)
    assert batched == sequential


def test_providers_with_different_steering_share_one_engine(name, vec, engine):
    plain_model, steered_model = model(name), model(name, steer=f"{vec}@1:8")
    alone = (texts(run_all(plain_model)), texts(run_all(steered_model)))

    async def both():
        return await asyncio.gather(
            asyncio.gather(*[plain_model.generate(p) for p in PROMPTS]),
            asyncio.gather(*[steered_model.generate(p) for p in PROMPTS]),
        )

    together = tuple(texts(outs) for outs in asyncio.run(both()))
    assert together == alone
    assert alone[0] != alone[1]
    # Interventions live only around their own batches.
    assert all(not block._forward_hooks for block in engine.blocks)


def test_logprobs_are_returned_when_asked(name):
    [plain] = run_all(model(name), ["hi"])
    assert plain.choices[0].logprobs is None
    [out] = run_all(model(name, config={"logprobs": True, "top_logprobs": 3}), ["hi"])
    content = out.choices[0].logprobs.content
    assert len(content) == out.usage.output_tokens == 10
    for lp in content:
        assert lp.logprob <= 0
        assert len(lp.top_logprobs) == 3
        # Greedy decoding picks the most likely token.
        assert lp.logprob == pytest.approx(lp.top_logprobs[0].logprob)
        assert lp.token == lp.top_logprobs[0].token


def test_stop_seqs_and_max_tokens(name):
    [full] = run_all(model(name, max_tokens=10), ["tell me a story"])
    assert full.usage.output_tokens == 10 and full.stop_reason == "max_tokens"
    stop = full.completion[3:5]
    [cut] = run_all(model(name, max_tokens=10, config={"stop_seqs": [stop]}), ["tell me a story"])
    assert cut.completion == full.completion[: full.completion.find(stop)]
    assert cut.stop_reason == "stop"


def test_messages_become_role_content_dicts():
    prompt = to_prompt([ChatMessageSystem(content="be terse"), ChatMessageUser(content="hi")])
    assert prompt == [{"role": "system", "content": "be terse"}, {"role": "user", "content": "hi"}]


def test_spec_list_undoes_cli_splitting():
    from inspect_ai._util.config import parse_cli_args

    def cli(arg):
        kind, value = next(iter(parse_cli_args([arg]).items()))
        return spec_list(kind, value)

    assert cli("steer=v@10,12:4") == ["v@10,12:4"]
    assert cli("steer=a@1:2,b@3:-1") == ["a@1:2", "b@3:-1"]
    assert cli("steer=[a@1:2, b@2-4:3]") == ["a@1:2", "b@2-4:3"]
    assert cli("cap=v@8:-2:") == ["v@8:-2:"]
    assert spec_list("steer", ["a@1:2", "b@2:3"]) == ["a@1:2", "b@2:3"]
    assert spec_list("steer", None) == []


@pytest.mark.parametrize(
    "args, fragment",
    [
        ({"steer": "novector"}, "missing '@'"),
        ({"steer": "{vec}@1"}, "malformed steer"),
        ({"steer": "{vec}@1:lots"}, "not a number"),
        ({"steer": "{vec}@99:1"}, "out of range"),
        ({"cap": "{vec}@1::"}, "min, a max or both"),
        ({"project": "{vec}@1,2"}, "exactly one layer"),
        ({"steer": "/no/such/vector@1:2"}, "no vector at"),
        ({"steer": True}, "not a spec string"),
        ({"batch_size": 0}, "batch_size"),
        ({"stear": "x"}, "unknown model arg 'stear'"),
    ],
)
def test_bad_args_raise_personascope_error(name, vec, args, fragment):
    args = {k: v.format(vec=vec) if isinstance(v, str) else v for k, v in args.items()}
    with pytest.raises(PersonascopeError, match=fragment):
        model(name, **args)


def test_wrong_width_vector_is_rejected(name, tmp_path):
    other = PersonaVector(torch.ones(4, 32)).save(tmp_path / "narrow")
    with pytest.raises(PersonascopeError, match="hidden size"):
        model(name, steer=f"{other}@1:2")


def test_tools_are_refused(name):
    m = model(name)
    tool = ToolInfo(name="search", description="search the web")
    with pytest.raises(PersonascopeError, match="does not support tools"):
        asyncio.run(m.generate("hi", tools=[tool]))


def test_smollm2_eval_with_projection(tmp_path):
    """The real path: the embedded model by name, offline, through `inspect_ai.eval`."""
    data = torch.nn.functional.normalize(torch.randn(30, 576, generator=torch.Generator().manual_seed(0)), dim=-1)
    spec = f"{PersonaVector(data).save(tmp_path / 'vec')}@10"
    task = Task(
        dataset=[Sample(input="What is 2+2?", target="4"), Sample(input="Name a colour.", target="red")],
        solver=generate(),
        scorer=includes(),
    )
    [log] = eval(
        task,
        model="personascope/smollm2",
        model_args={"project": spec, "steer": f"{tmp_path / 'vec'}@10:0"},
        max_tokens=8,
        log_dir=str(tmp_path / "logs"),
        display="none",
    )
    assert log.status == "success", log.error
    for sample in log.samples:
        assert sample.output.completion.strip()
        assert 0 < sample.output.usage.output_tokens <= 8
        assert isinstance(sample.output.metadata["projections"][spec], float)


def test_token_counts_use_the_models_tokenizer(name, engine):
    m = model(name)
    text = "count these tokens, please"
    assert asyncio.run(m.count_tokens(text)) == len(engine.encode_text([text])[0])
