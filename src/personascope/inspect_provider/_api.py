"""The `personascope/<model>` Inspect model API: the engine, steered or not, as an Inspect model.

    inspect eval task.py --model personascope/smollm2 -M steer=runs/evil@12:4 -M project=runs/evil@12

torch and the engine load when a model is built, not when Inspect imports the
entry point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    GenerateConfig,
    Logprob,
    Logprobs,
    ModelAPI,
    ModelCall,
    ModelOutput,
    ModelUsage,
    TopLogprob,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from personascope.errors import PersonascopeError
from personascope.inspect_provider._batcher import Result, Setup, batcher, engine_lock

if TYPE_CHECKING:
    from personascope.engine import Engine
    from personascope.engine import GenerateConfig as EngineConfig

INTERVENTION_KINDS = ("steer", "ablate", "cap")
MODEL_ARGS = (*INTERVENTION_KINDS, "project", "dtype", "device", "layers_path", "batch_size", "batch_wait")
DEFAULT_MAX_TOKENS = 512
"""Used when the task sets no `max_tokens` (Inspect's 2048 is slow on a laptop CPU)."""

_engines: dict[str, "Engine"] = {}


def register_engine(name: str, engine: "Engine") -> str:
    """Serve an `Engine` you already have as `personascope/<name>` (tests, notebooks).

    A registered name takes precedence over `smollm2` and `hf/...`; `dtype`,
    `device` and `layers_path` model args are ignored for it. Returns the model
    string to pass to Inspect. `get_model()` memoizes by name and model args, so
    pass `memoize=False` after re-registering a name.
    """
    if not name or name.startswith("personascope/"):
        raise PersonascopeError(f"cannot register an engine as {name!r}: use a bare name such as 'tiny'")
    _engines[name] = engine
    return f"personascope/{name}"


def unregister_engine(name: str) -> None:
    """Forget an engine registered with `register_engine` (no error if absent)."""
    _engines.pop(name, None)


def spec_list(kind: str, value: Any) -> list[str]:
    """Normalise a `steer`/`ablate`/`cap`/`project` model arg to a list of specs.

    Accepts a string, a list of strings, and what Inspect's `-M` parsing makes of
    them: `-M` splits values at commas (so `v@10,12:4` arrives as `['v@10', '12:4']`
    and is joined back: a piece without '@' continues the previous spec) and YAML
    reads a trailing colon as a mapping (`v@8:-2:` arrives as `{'v@8:-2': None}`).
    """
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    pieces: list[str] = []
    for item in items:
        if isinstance(item, dict):
            pieces.extend(f"{k}:{'' if v is None else v}" for k, v in item.items())
        elif isinstance(item, (str, int, float)) and not isinstance(item, bool):
            pieces.append(str(item).strip())
        else:
            raise PersonascopeError(f"model arg {kind}={value!r} is not a spec string: write {kind}=VECTOR@...")
    specs: list[str] = []
    for piece in pieces:
        if "@" not in piece and specs:
            specs[-1] += "," + piece
        elif piece:
            specs.append(piece)
    return specs


def _number(name: str, value: Any, kind: type, minimum: float) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or number < minimum:
        raise PersonascopeError(f"model arg {name}={value!r} must be a {kind.__name__} >= {minimum}")
    return number


def build_setup(model_name: str, model_args: dict[str, Any]) -> tuple[Setup, dict[str, list[str]]]:
    """Load the engine and parse every model arg; returns the setup and the specs."""
    unknown = sorted(set(model_args) - set(MODEL_ARGS))
    if unknown:
        raise PersonascopeError(
            f"unknown model arg {unknown[0]!r} for personascope/{model_name}: use {', '.join(MODEL_ARGS)}"
        )
    from personascope.engine import InterventionSpec
    from personascope.models import get_model
    from personascope.vectors import parse_projection

    specs = {kind: spec_list(kind, model_args.get(kind)) for kind in (*INTERVENTION_KINDS, "project")}
    # Text errors first: a typo in a spec should not wait for a model to load.
    spec = InterventionSpec.parse(specs["steer"], specs["ablate"], specs["cap"])
    engine = _engines.get(model_name)
    if engine is None:
        engine = get_model(
            model_name,
            dtype=str(model_args.get("dtype", "auto")),
            device=str(model_args.get("device", "auto")),
            layers_path=model_args.get("layers_path"),
        ).engine
    shape = (engine.n_layers, engine.hidden_size)
    interventions = tuple(spec.resolve(*shape))
    projections = tuple(parse_projection(s, *shape) for s in specs["project"])
    setup = Setup(
        engine=engine,
        interventions=interventions,
        projections=projections,
        batch_size=_number("batch_size", model_args.get("batch_size", 16), int, 1),
        batch_wait=_number("batch_wait", model_args.get("batch_wait", 0.2), float, 0.0),
    )
    return setup, {k: v for k, v in specs.items() if v}


def to_prompt(messages: list[ChatMessage]) -> list[dict[str, str]]:
    """Inspect chat messages as role/content dicts (text only)."""
    prompt = []
    for message in messages:
        if message.role == "tool" or (message.role == "assistant" and message.tool_calls):
            raise PersonascopeError(
                "personascope models do not support tool calls: use a task without tools for white-box models"
            )
        if not isinstance(message.content, str):
            other = [c.type for c in message.content if c.type not in ("text", "reasoning")]
            if other:
                raise PersonascopeError(
                    f"personascope models take text only, but a {message.role} message has {other[0]} content"
                )
        prompt.append({"role": message.role, "content": message.text})
    return prompt


def engine_config(config: GenerateConfig, batch_size: int, default_max_tokens: int) -> "EngineConfig":
    """The engine's generation settings for an Inspect `GenerateConfig`."""
    from pydantic import ValidationError

    from personascope.engine import GenerateConfig as EngineConfig

    try:
        return EngineConfig(
            max_new_tokens=config.max_tokens or default_max_tokens,
            temperature=config.temperature if config.temperature is not None else 0.0,
            top_p=config.top_p if config.top_p is not None else 1.0,
            seed=config.seed,
            stop=list(config.stop_seqs or []),
            logprobs=bool(config.logprobs or config.top_logprobs),
            top_logprobs=config.top_logprobs or 0,
            batch_size=batch_size,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"])
        raise PersonascopeError(f"unsupported generation setting {field}: {error['msg']}") from None


def to_output(model_name: str, result: Result) -> ModelOutput:
    gen = result.generation
    logprobs = None
    if gen.logprobs is not None:
        tokens = result.tokens or [""] * len(gen.logprobs)
        content = []
        for t, (token, value) in enumerate(zip(tokens, gen.logprobs)):
            top = None
            if gen.top_logprobs is not None:
                top = [TopLogprob(token=s, logprob=v, bytes=list(s.encode())) for s, v in gen.top_logprobs[t]]
            content.append(Logprob(token=token, logprob=value, bytes=list(token.encode()), top_logprobs=top))
        logprobs = Logprobs(content=content)
    choice = ChatCompletionChoice(
        message=ChatMessageAssistant(content=gen.text, model=model_name, source="generate"),
        stop_reason="stop" if gen.finish_reason == "stop" else "max_tokens",
        logprobs=logprobs,
    )
    n_out = len(gen.token_ids)
    return ModelOutput(
        model=model_name,
        choices=[choice],
        usage=ModelUsage(input_tokens=gen.prompt_tokens, output_tokens=n_out, total_tokens=gen.prompt_tokens + n_out),
        time=result.time,
        metadata={"projections": result.projections} if result.projections is not None else None,
    )


class PersonascopeAPI(ModelAPI):
    """A white-box personascope model (`smollm2`, `hf/<path>`, or a registered
    engine) with optional steering, ablation, capping and projections.

    Model args (`-M` on the command line, `model_args` in Python): see
    `docs/inspect.md`.
    """

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),
        **model_args: Any,
    ) -> None:
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key, api_key_vars=[], config=config)
        self.setup, self.specs = build_setup(model_name, model_args)

    @property
    def engine(self) -> "Engine":
        return self.setup.engine

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> tuple[ModelOutput, ModelCall]:
        if tools:
            raise PersonascopeError(
                f"personascope/{self.model_name} does not support tools ({tools[0].name} given): "
                "use a task without tools for white-box models"
            )
        prompt = to_prompt(input)
        gen_config = engine_config(config, self.setup.batch_size, DEFAULT_MAX_TOKENS)
        result = await batcher.submit(self.setup, prompt, gen_config)
        output = to_output(self.model_name, result)
        request = {"model": self.model_name, "messages": prompt, "config": gen_config.model_dump(), **self.specs}
        response = {"text": result.generation.text, "finish_reason": result.generation.finish_reason}
        return output, ModelCall.create(request, response, time=result.time)

    async def loglikelihood(self, contexts: list[str], continuations: list[str]):
        """Per-token log-probabilities (`Scored`) of each continuation after a raw
        text context, under this model's interventions (what lm-eval-style
        multiple-choice items need; Inspect's own API has no such call)."""
        import anyio

        return await anyio.to_thread.run_sync(self._loglikelihood, contexts, continuations)

    def _loglikelihood(self, contexts: list[str], continuations: list[str]):
        from contextlib import nullcontext

        with engine_lock(self.engine):
            hooks = self.engine.intervene(*self.setup.interventions) if self.setup.interventions else nullcontext()
            with hooks:
                return self.engine.loglikelihood(contexts, continuations)

    async def tokenize(self, text: str) -> list[int]:
        import anyio

        return await anyio.to_thread.run_sync(self._encode, text)

    async def count_text_tokens(self, text: str) -> int:
        # Inspect's default needs tiktoken's downloaded encodings; count with the model's own tokenizer.
        return len(await self.tokenize(text))

    def _encode(self, text: str) -> list[int]:
        # Under the engine lock: fast tokenizers must not be used from two threads at once.
        with engine_lock(self.engine):
            return self.engine.encode_text([text])[0]

    def max_tokens(self) -> int | None:
        return DEFAULT_MAX_TOKENS

    def max_connections(self) -> int:
        # Requests in flight at once are what the batcher can gather into one batch.
        return self.setup.batch_size

    def collapse_user_messages(self) -> bool:
        # Many chat templates insist on alternating user/assistant turns.
        return True
