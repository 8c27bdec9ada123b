"""A protocol is a step type: a pydantic config class, registered by name.

A step type is a subclass of `Step` decorated with `@step_type("name")`. Its
fields are the protocol's parameters (written flat in a study YAML, next to `id`
and `type`). `execute(model, env)` runs the protocol on one model and returns a
`StepResult`; `run(ctx)` (by default: `execute` on each of the step's models, each
result recorded by `ctx.record`) is what a study calls. The protocol's Python
function, its study step, its CLI command and its one-step study all go through
the class, so they validate and behave alike. Report sections are registered
separately, under the same name (`personascope.report.section`).
"""

import re
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from personascope.models import Model
    from personascope.protocol._env import Context, Env
    from personascope.protocol._result import StepResult

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


class Step(BaseModel):
    """Fields every step has. Subclasses add their parameters."""

    model_config = ConfigDict(extra="forbid")

    id: str
    """Unique name of the step in its study (letters, digits, - and _; starts with a letter)."""
    type: str
    """The registered step type, or a `module:Class` reference to one of your own."""
    model: str | list[str] | None = None
    """Model alias (or list of aliases) from the study's `models`; default: all of them."""
    needs: list[str] = Field(default_factory=list)
    """Steps that must finish first (references to a step's vector add this by themselves)."""
    seed: int | None = None
    """Seed for this step; default: the study's seed."""

    produces_vector: ClassVar[bool] = False
    """Whether `<id>@LAYER` may name this step's vector in other steps' specs."""
    white_box: ClassVar[bool] = False
    """Whether the step needs activations (white-box models only)."""
    version: ClassVar[int] = 1
    """Bump when a type's outputs change meaning: retires its whole-step cache entries."""
    result_name: ClassVar[str] = "result"
    """Results are recorded as `artifacts/<step id>/<result_name>-<model alias>.json`."""

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("step ids start with a letter and use only letters, digits, '-' and '_'")
        return value

    def references(self) -> set[str]:
        """Names this step reads that may be other steps' ids (vector specs and the like)."""
        return set()

    def input_files(self, ctx: "Context") -> list[Path]:
        """Files outside the run that the step reads (their content keys its cache entry)."""
        return []

    def cache_parts(self, ctx: "Context") -> dict:
        """More that keys the whole-step cache beyond config, models and input files:
        e.g. a judge model's fingerprint, or built-in data the step reads."""
        return {}

    def execute(self, model: "Model", env: "Env") -> "StepResult":
        """Run the protocol on one model (steps that work on all models at once
        override `run` instead)."""
        raise NotImplementedError(f"step type {self.type!r} defines neither execute nor run")

    def run(self, ctx: "Context") -> None:
        for alias, model in ctx.models():
            ctx.record(alias, self.execute(model, ctx))


S = TypeVar("S", bound=type[Step])


def step_type(name: str, *, replace: bool = False) -> Callable[[S], S]:
    """Register a `Step` subclass as the step type `name` (a duplicate name is an
    error unless `replace`)."""
    from personascope import registry

    def register(cls: S) -> S:
        registry.register("step", name, cls, replace=replace)
        return cls

    return register


def step_types() -> dict[str, type[Step]]:
    """Every registered step type by name (built-in ones are imported here)."""
    from personascope import registry

    return registry.entries("step")


def spec_vector_name(spec: str) -> str:
    """The vector part of `VECTOR@LAYERS[:...]` (a step id or a path)."""
    return spec.rpartition("@")[0] or spec
