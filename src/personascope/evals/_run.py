"""`run_eval`: a suite against one model in one or more arms, batched and cached.

The Python face of the `eval` protocol: it validates its arguments as an
`EvalStep` and runs the step's `execute` outside any study."""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from personascope.errors import PersonascopeError
from personascope.evals._answer import Progress
from personascope.protocol import Arm, LocalEnv

if TYPE_CHECKING:
    from personascope.evals._result import EvalResult
    from personascope.evals._suite import Suite
    from personascope.models import Model
    from personascope.store import Cache


def run_eval(
    suite: "str | Suite",
    model: "str | Model" = "smollm2",
    *,
    options: Mapping[str, Any] | None = None,
    arms: Mapping[str, Arm] | None = None,
    limit: int | None = None,
    judge_model: "str | Model | None" = None,
    max_tokens: int | None = None,
    samples: int = 1,
    temperature: float = 0.0,
    seed: int = 0,
    cache: "Cache | None" = None,
    progress: Progress | bool = True,
    prefix: Sequence[dict] = (),
) -> "EvalResult":
    """Run `suite` on `model` in each arm (default: one arm with no intervention,
    named `default`) and return the scored rows and statistics. `judge_model`
    defaults to `model`, unsteered.

    Arms' `steer`/`ablate`/`cap` specs are `PATH@LAYERS...` strings (a white-box
    model is needed); an arm's `system` replaces every item's system prompt.
    `prefix` messages go before every item's own (an earlier conversation the
    answers should follow); a system prompt of the arm or item replaces its system message."""
    from personascope.evals._step import EvalStep
    from personascope.evals._suite import Suite
    from personascope.models import Model, get_model

    if limit is not None and limit < 1:
        raise PersonascopeError(f"limit must be at least 1, not {limit}")
    if samples < 1:
        raise PersonascopeError(f"samples must be at least 1, not {samples}")
    judge = judge_model.name if isinstance(judge_model, Model) else judge_model
    fields: dict[str, Any] = {
        "id": "eval", "type": "eval", "suite": suite.name if isinstance(suite, Suite) else suite,
        "options": dict(options or {}), "limit": limit, "judge_model": judge, "max_tokens": max_tokens,
        "samples": samples, "temperature": temperature, "prefix": [dict(m) for m in prefix],
    }
    if arms is not None:
        fields["arms"] = dict(arms)
    step = _validate(EvalStep, fields, {"suite": suite} if isinstance(suite, Suite) else None)
    env = LocalEnv(seed=seed, cache=cache, show_progress=bool(progress), progress_fn=progress if callable(progress) else None,
                   models={judge_model.name: judge_model} if isinstance(judge_model, Model) else {})
    return step.execute(get_model(model, cache=env.cache), env)


def _validate(cls, fields: dict[str, Any], context: dict | None):
    """`cls` validated from `fields`, pydantic's errors as one user error line."""
    from pydantic import ValidationError

    try:
        return cls.model_validate(fields, context=context)
    except ValidationError as exc:
        raise PersonascopeError("; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'eval'}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
        )) from None
