"""`personascope eval` as a one-step study: the same run directory, manifest,
cache, resume and report as any study, without writing a config file."""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from personascope.protocol import Arm
from personascope.errors import PersonascopeError


def eval_study(
    suite: str,
    model: str = "smollm2",
    *,
    options: Mapping[str, Any] | None = None,
    steer: Sequence[str] = (),
    ablate: Sequence[str] = (),
    cap: Sequence[str] = (),
    system: str | None = None,
    compare: bool = False,
    limit: int | None = None,
    judge_model: str | None = None,
    max_tokens: int | None = None,
    samples: int = 1,
    temperature: float = 0.0,
    seed: int = 0,
):
    """A `Study` with one `eval` step. Interventions make a `steered` arm; with
    `compare` a `plain` arm runs first and differences are reported against it.
    Vector paths are taken relative to the current folder."""
    from personascope.study._onestep import one_step_study

    treated = Arm(steer=list(steer), ablate=list(ablate), cap=list(cap))
    if compare and not treated.specs():
        raise PersonascopeError("--compare needs something to compare: give --steer, --ablate or --cap")
    if treated.specs():
        arms = {"plain": Arm(), "steered": treated} if compare else {"steered": treated}
    else:
        arms = {"default": Arm()}
    step: dict[str, Any] = {
        "id": "eval", "type": "eval", "suite": suite, "options": dict(options or {}),
        "arms": {k: v.model_dump(exclude_defaults=True) for k, v in arms.items()},
        "system": system, "limit": limit, "judge_model": judge_model, "max_tokens": max_tokens,
        "samples": samples, "temperature": temperature,
    }
    return one_step_study(step, model, name=f"eval-{suite}", seed=seed)


def run_eval_study(suite: str, model: str = "smollm2", *, runs_dir: str | Path | None = None, no_cache: bool = False,
                   new: bool = False, progress: bool = True, **kwargs: Any):
    """Run `eval_study(...)`; returns the `RunResult` and the result's JSON
    (`EvalResult.to_json()`), read back from the run directory."""
    from personascope.study._onestep import run_one_step

    return run_one_step(eval_study(suite, model, **kwargs), result_file="result-model.json", runs_dir=runs_dir,
                        no_cache=no_cache, new=new, progress=progress)
