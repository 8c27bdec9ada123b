"""A command as a one-step study: `personascope eval`, `drift run`, `selfchat run`,
`rtt run` and `therapy run` build one step and run it, so each gets a run
directory, manifest, store, report and resume without a config file."""

import json
from pathlib import Path
from typing import Any


def one_step_study(step: dict[str, Any], models: dict[str, str] | str, *, name: str, seed: int = 0):
    """A `Study` with `step` alone; `models` is one model name (alias `model`) or aliases."""
    from personascope.study._config import parse_study

    models = {"model": models} if isinstance(models, str) else dict(models)
    raw = {"name": name, "models": models, "seed": seed, "steps": [step]}
    return parse_study(raw, file=f"<personascope {name}>")


def run_one_step(study, *, result_file: str | None = None, runs_dir: str | Path | None = None, no_cache: bool = False,
                 new: bool = False, progress: bool = True):
    """Run a one-step study; returns the `RunResult` and, with `result_file`, that JSON
    file of the step's artifacts read back (None without one)."""
    from personascope.study import run_study

    result = run_study(study, runs_dir=runs_dir, no_cache=no_cache, new=new, progress=progress)
    if result_file is None:
        return result, None
    step = study.steps[0].id
    return result, json.loads((result.run_dir / "artifacts" / step / result_file).read_text())
