"""`generate`: one function for every kind of model.

White-box names (`smollm2`, `hf/...`) run on the engine, with optional
interventions; any other name goes through Inspect's model layer, which brings
the providers, retries and rate limits.
"""

from collections.abc import Sequence

from personascope.engine._chat import Prompt, to_messages
from personascope.engine._types import GenerateConfig, Generation
from personascope.errors import PersonascopeError
from personascope.models._get import get_model
from personascope.models._model import Model
from personascope.models._prompts import read_prompts  # noqa: F401  (re-exported)


def interventions_from_specs(engine, steer: Sequence[str] = (), ablate: Sequence[str] = (), cap: Sequence[str] = ()) -> list:
    """Engine interventions from CLI-style specs (see `personascope.engine.FORMS`)."""
    from personascope.engine import InterventionSpec

    return InterventionSpec.parse(steer, ablate, cap).resolve(engine.n_layers, engine.hidden_size)


def generate(
    model: "str | Model",
    prompts: Sequence[Prompt],
    config: GenerateConfig | None = None,
    *,
    system: str | None = None,
    steer: Sequence[str] = (),
    ablate: Sequence[str] = (),
    cap: Sequence[str] = (),
    progress: bool = False,
    model_args: dict | None = None,
    allow_other_model: bool = False,
) -> list[Generation]:
    """Generate one response per prompt with `model` (any personascope model name).

    `model_args` go to Inspect's `get_model` for black-box models (e.g. `base_url`);
    `allow_other_model` applies vectors extracted from another model.
    """
    config = config or GenerateConfig()
    handle = get_model(model, args=model_args) if model_args else get_model(model)
    engine, interventions = prepare(handle, steer, ablate, cap, allow_other_model=allow_other_model)
    if engine is not None:
        with engine.intervene(*interventions):
            return engine.generate(prompts, config, system=system, progress=progress)
    import asyncio  # only black-box calls need an event loop; importing it costs validation 40 ms

    return asyncio.run(_inspect_generate(handle.ref.target, prompts, config, system, handle.model_args))


def prepare(model: "str | Model", steer: Sequence[str] = (), ablate: Sequence[str] = (), cap: Sequence[str] = (),
            *, allow_other_model: bool = False):
    """Check a model name and intervention specs without generating anything.

    Returns `(engine, interventions)` for white-box models (loading the engine) and
    `(None, [])` for black-box ones, which cannot take interventions. Every spec is
    parsed and checked against the model's shape before the model loads.
    """
    from personascope.engine import InterventionSpec

    spec = InterventionSpec.parse(steer, ablate, cap)
    handle = get_model(model)
    if handle.white_box:
        handle.check_interventions(spec, allow_other_model=allow_other_model)
        engine = handle.engine
        return engine, interventions_from_specs(engine, steer, ablate, cap)
    if steer or ablate or cap:
        raise PersonascopeError(
            f"{handle.name} is a black-box model: steering, ablation and capping need a white-box model (smollm2 or hf/<path>)"
        )
    return None, []


async def _inspect_generate(
    model: str, prompts: Sequence[Prompt], config: GenerateConfig, system: str | None, model_args: dict
):
    from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser
    from inspect_ai.model import GenerateConfig as InspectConfig

    from personascope.models._inspect import generate_failed, inspect_model

    kinds = {"system": ChatMessageSystem, "user": ChatMessageUser, "assistant": ChatMessageAssistant}
    api, settings = inspect_model(model, model_args)
    inspect_config = InspectConfig(
        max_tokens=config.max_new_tokens,
        temperature=config.temperature,
        top_p=config.top_p if config.top_p < 1 else None,
        seed=config.seed,
        stop_seqs=config.stop or None,
        **settings,
    )

    async def one(prompt: Prompt) -> Generation:
        messages = [kinds[m["role"]](content=m["content"]) for m in to_messages(prompt, system)]
        try:
            out = await api.generate(messages, config=inspect_config)
        except Exception as exc:  # Inspect has retried already; what is left is the user's to fix
            raise generate_failed(model, exc, settings) from exc
        usage = out.usage
        return Generation(
            text=out.completion,
            token_ids=[],
            finish_reason="length" if out.stop_reason == "max_tokens" else "stop",
            prompt_tokens=usage.input_tokens if usage else 0,
        )

    import asyncio

    return list(await asyncio.gather(*(one(p) for p in prompts)))
