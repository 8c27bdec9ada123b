"""What an arm trains with: the method (LoRA or full finetuning), the optimisation
arguments, and the arm itself (its prompt context, steering, KL, starting point).

Everything that can be wrong is caught here, before a model loads: a LoRA rank of
0, a learning rate that is not a positive finite number, a malformed steering
spec, an `init_from` that names no arm or closes a loop.
"""

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from personascope.errors import PersonascopeError
from personascope.train._context import PromptContext


class Method(BaseModel):
    """How the weights change: a LoRA adapter (PEFT) or every weight."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["lora", "full"] = "lora"
    """lora: train a low-rank adapter, saved in PEFT's format; full: finetune every weight."""
    r: int = 8
    """LoRA rank (lora only; at least 1)."""
    alpha: float | None = None
    """LoRA alpha, the adapter's scale numerator (default: 2 * r)."""
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    """Dropout on the LoRA input during training."""
    target_modules: str | list[str] = "all-linear"
    """Modules that get an adapter: PEFT's 'all-linear' (every linear layer but the output head) or names like q_proj."""
    layers: list[int] | None = None
    """Only these decoder layers get adapters (PEFT's layers_to_transform; default: all)."""
    rslora: bool = False
    """Rank-stabilised LoRA: scale by alpha / sqrt(r) instead of alpha / r."""

    @model_validator(mode="after")
    def _check(self) -> "Method":
        if self.kind == "lora" and self.r < 1:
            raise ValueError(f"a LoRA rank must be at least 1, not {self.r}")
        if self.alpha is not None and not (math.isfinite(self.alpha) and self.alpha > 0):
            raise ValueError(f"alpha must be a positive finite number, not {self.alpha}")
        if isinstance(self.target_modules, list) and not self.target_modules:
            raise ValueError("target_modules is empty: give module names or 'all-linear'")
        if self.layers is not None and (not self.layers or any(layer < 0 for layer in self.layers)):
            raise ValueError("layers must list decoder layer indices (0 and up), or be left out for all")
        return self

    @property
    def lora_alpha(self) -> float:
        return self.alpha if self.alpha is not None else 2.0 * self.r


class TrainArgs(BaseModel):
    """The optimisation: epochs, learning rate, batches, checkpoints."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    epochs: float = Field(3.0, gt=0)
    """Passes over the dataset (a fraction stops part-way)."""
    learning_rate: float = 1e-3
    """Peak learning rate (AdamW); LoRA wants ~1e-4..1e-3, full finetuning ~1e-5."""
    batch_size: int = Field(8, ge=1)
    """Examples per optimiser step on one device (before gradient accumulation)."""
    grad_accum: int = Field(1, ge=1)
    """Batches whose gradients are summed into one optimiser step."""
    max_length: int | None = Field(512, ge=8)
    """Longest example in tokens (longer ones are cut at the end); None: no limit."""
    warmup_ratio: float = Field(0.0, ge=0.0, lt=1.0)
    """Share of the steps over which the learning rate warms up linearly."""
    lr_schedule: Literal["linear", "constant", "cosine"] = "linear"
    """How the learning rate moves after warmup: down to 0 linearly, held, or along a cosine."""
    save_every: int = Field(50, ge=1)
    """Optimiser steps between checkpoints (a killed run resumes from the last one)."""
    seed: int | None = None
    """Seed of the data order and the adapter's initialisation (default: the training seed)."""

    @field_validator("learning_rate")
    @classmethod
    def _lr(cls, value: float) -> float:
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"learning_rate must be a positive finite number, not {value}")
        return value


def _override(base: BaseModel, changes: dict[str, Any] | None, what: str) -> Any:
    if not changes:
        return base
    try:
        return type(base)(**{**base.model_dump(), **changes})
    except ValueError as exc:
        raise PersonascopeError(f"{what}: {exc}") from None


class Arm(BaseModel):
    """One training condition: a context to train under, and how."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    context: PromptContext = Field(default_factory=PromptContext)
    """System prompt and/or user prefix put on every training example (inoculation, placebo, arbitrary)."""
    regenerate_system: str | None = None
    """Recontextualization: regenerate the completions under this system prompt (one that discourages the trait), then train under `context`."""
    steer: list[str] = Field(default_factory=list)
    """Steering specs VECTOR@LAYERS:COEF[:POSITIONS] active in training forward passes only (preventative steering)."""
    kl: float = Field(0.0, ge=0.0)
    """Weight of KL(trained || frozen base) on completion tokens, added to the loss (0: off)."""
    init_from: str | None = None
    """Start from this arm's trained model of the same seed (multi-stage training)."""
    method: dict[str, Any] | None = None
    """Changes to the step's method for this arm (e.g. {r: 16} or {kind: full})."""
    args: dict[str, Any] | None = None
    """Changes to the step's training arguments for this arm (e.g. {learning_rate: 2e-4})."""

    @field_validator("steer")
    @classmethod
    def _steer(cls, specs: list[str]) -> list[str]:
        from personascope.engine._spec import InterventionSpec

        InterventionSpec.from_pairs([("steer", s) for s in specs])  # syntax errors now, not after loading
        return specs

    @field_validator("kl")
    @classmethod
    def _kl(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError(f"kl must be a finite number, not {value}")
        return value

    @model_validator(mode="after")
    def _overrides(self) -> "Arm":
        for name, model in (("method", Method), ("args", TrainArgs)):
            unknown = sorted(set(getattr(self, name) or {}) - set(model.model_fields))
            if unknown:
                raise ValueError(f"{name} has unknown field(s) {', '.join(unknown)}: use {', '.join(model.model_fields)}")
        return self

    def specs(self) -> list[tuple[str, str]]:
        """(kind, spec) pairs, as a study's validation checks them against the model's shape."""
        return [("steer", s) for s in self.steer]

    def resolved(self, method: Method, args: TrainArgs, name: str = "arm") -> tuple[Method, TrainArgs]:
        """The step's method and arguments with this arm's changes."""
        return _override(method, self.method, f"arm {name}: method"), _override(args, self.args, f"arm {name}: args")


def training_order(arms: dict[str, Arm]) -> list[str]:
    """Arm names so that every arm comes after the arm it starts from; an unknown
    `init_from` or a loop is an error naming the arms."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "open":
            loop = " -> ".join([*path[path.index(name):], name])
            raise PersonascopeError(f"arms: init_from makes a loop ({loop}) (fix: one arm must start from the base model)")
        state[name] = "open"
        parent = arms[name].init_from
        if parent is not None:
            if parent not in arms:
                raise PersonascopeError(
                    f"arms.{name}.init_from: no arm named {parent!r} (fix: use one of {', '.join(arms)})"
                )
            visit(parent, [*path, name])
        state[name] = "done"
        order.append(name)

    for name in arms:
        visit(name, [])
    return order
