"""Any protocol as a one-step study: `personascope eval`, `drift run`, `selfchat run`,
`rtt run` and `therapy run` validate their step through the protocol's class and
run it here, so each gets a run directory, manifest, store, report and resume
without a config file."""

import json
from pathlib import Path
from typing import Any

from personascope.models import ModelConfig
from personascope.protocol import Step


def step_study(step: Step | dict[str, Any], models: "str | ModelConfig | dict[str, Any]" = "smollm2", *,
               name: str | None = None, seed: int = 0):
    """A `Study` with `step` alone. `models` is one model (alias `model`) or aliases
    (name or `ModelConfig` each). The step goes through the study's validation like
    any step of a config file."""
    from personascope.study._config import parse_study

    raw_step = step.model_dump(exclude_defaults=True) | {"id": step.id, "type": step.type} if isinstance(step, Step) else dict(step)
    if isinstance(models, (str, ModelConfig)):
        models = {"model": models}
    models = {alias: m.model_dump(exclude_defaults=True) if isinstance(m, ModelConfig) else m for alias, m in models.items()}
    name = name or str(raw_step["type"])
    raw = {"name": name, "models": models, "seed": seed, "steps": [raw_step]}
    return parse_study(raw, file=f"<personascope {name}>")


def run_step(step: Step | dict[str, Any], models: "str | ModelConfig | dict[str, Any]" = "smollm2", *,
             name: str | None = None, seed: int = 0, runs_dir: str | Path | None = None, no_cache: bool = False,
             new: bool = False, wait: bool = False, progress: bool = True):
    """Run `step` as a one-step study. Returns the `RunResult` and the recorded result
    of the first model (its `<result_name>-<alias>.json`, read back), or None when the
    step records none."""
    from personascope.study._runner import run_study

    study = step_study(step, models, name=name, seed=seed)
    result = run_study(study, runs_dir=runs_dir, no_cache=no_cache, new=new, wait=wait, progress=progress)
    only = study.steps[0]
    alias = study.step_models(only)[0]
    path = result.run_dir / "artifacts" / only.id / f"{type(only).result_name}-{alias}.json"
    return result, json.loads(path.read_text()) if path.is_file() else None

