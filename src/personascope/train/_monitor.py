"""Checkpoint monitoring: what a model being trained does on a small fixed probe set.

Every `every` optimizer steps (and once before the first, as the baseline) the
monitor asks the model being trained for greedy replies to a few held-out prompts,
scores them, projects their activations on persona vectors, and reads the training
loss and the size of the update so far. One JSON row per check goes to a JSONL log,
append-only, so a killed run keeps what it measured and a resumed one adds no
duplicates. The callback itself (it needs transformers) is in `_callback.py`;
this module stays light so configs validate without torch.
"""

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from personascope.errors import PersonascopeError

ROW_KEYS = ("global_step", "epoch", "loss", "adapter_norm", "update_cosine", "scores", "projection", "projection_shift")
"""The keys of one monitor row."""


class MonitorConfig(BaseModel):
    """What to measure at each check, and how often."""

    model_config = ConfigDict(extra="forbid")

    every: int = Field(10, ge=1)
    """Optimizer steps between checks (a check also runs before the first step)."""
    prompts: list[str] | str = "heldout"
    """Probe prompts: a list of questions, or a built-in question set name or file (its first `n`)."""
    n: int = Field(8, ge=1)
    """How many prompts of the set are used."""
    scorers: list[str] = Field(default_factory=list)
    """Programmatic scorers (registered names or `module:function`) averaged over the replies."""
    vectors: list[str] = Field(default_factory=list)
    """Projections as `VECTOR@LAYER` specs: the mean over each reply's tokens of layer L's output on the unit vector."""
    max_tokens: int = Field(32, ge=1)
    """Greedy tokens per reply."""

    @field_validator("prompts")
    @classmethod
    def _some_prompts(cls, value):
        if isinstance(value, list) and (not value or any(not p.strip() for p in value)):
            raise ValueError("prompts must be a non-empty list of non-empty questions, or a question set name")
        return value

    def probe_prompts(self) -> list[str]:
        """The first `n` probe questions."""
        return resolve_prompts(self.prompts, self.n, "monitor.prompts")


def resolve_prompts(prompts: Sequence[str] | str, n: int, where: str) -> list[str]:
    """A list of questions as given, or the first `n` of a question set (`personascope.data.load_questions`)."""
    if isinstance(prompts, str):
        from personascope import data

        load = getattr(data, "load_questions", None)
        if load is None:
            raise PersonascopeError(f"{where}: {prompts!r} names a question set, but none can be loaded here: give a list of questions")
        questions = list(load(prompts))
    else:
        questions = list(prompts)
    if not questions:
        raise PersonascopeError(f"{where}: no questions: give at least one")
    return questions[:n]


def read_monitor(log_path: str | Path) -> list[dict]:
    """The rows of a monitor log in step order (a torn last line, from a kill, is skipped)."""
    path = Path(log_path).expanduser()
    if not path.is_file():
        return []
    rows = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if n == len(lines):  # a row cut short by a kill: the next check writes it again
                continue
            raise PersonascopeError(f"{path}:{n} is not a JSON row: delete the line (the monitor rewrites what is missing)") from None
        if not isinstance(row, dict) or "global_step" not in row:
            raise PersonascopeError(f"{path}:{n} is not a monitor row (no global_step): delete the line")
        rows.append(row)
    return sorted(rows, key=lambda r: r["global_step"])


def append_row(log_path: Path, row: dict) -> bool:
    """Append `row` unless its global_step is already logged; True if written."""
    if any(r["global_step"] == row["global_step"] for r in read_monitor(log_path)):
        return False
    log_path.parent.mkdir(parents=True, exist_ok=True)
    text = log_path.read_text(encoding="utf-8") if log_path.is_file() else ""
    if text and not text.endswith("\n"):
        # A line torn by a kill: drop it (read_monitor skipped it; its check runs again).
        from personascope._files import atomic_write

        atomic_write(log_path, text[: text.rfind("\n") + 1])
    with open(log_path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(_plain(row), allow_nan=False) + "\n")
    return True


def _plain(value: Any) -> Any:
    """JSON without NaN: a missing or non-finite number is null."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def plot_monitor(monitor: dict, path: str | Path) -> Path:
    """Draw the monitor curves (`{arm: {seed: rows}}`) as a PNG at `path`: loss, adapter
    norm, update cosine, each scorer and each projection shift against the global step,
    one line per seed. The drawing lives in the report (the `monitor_figure` hook)."""
    from personascope import registry
    from personascope._files import atomic_write

    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, registry.get("hook", "monitor_figure")(monitor))
    return path


def __getattr__(name: str):
    if name == "MonitorCallback":  # it subclasses transformers' TrainerCallback: import on first use
        from personascope.train._callback import MonitorCallback

        return MonitorCallback
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
