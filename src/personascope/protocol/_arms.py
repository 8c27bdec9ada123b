"""Arms: the conditions a model answers under, with one vocabulary everywhere.

A step that names no arms runs one, `default`: the model with no intervention.
A command with `--steer`, `--cap` or `--ablate` runs the treated arm, named
`steered`, `capped` or `ablated`; with `--compare` it first runs `plain`, the same
untreated model, and reports differences against it. Configs may add arms of their
own (a named system prompt, say). `default` and `plain` are the same condition,
so `runs compare` pairs a plain run's `default` arm with a `--compare` run's
`plain` arm."""

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _as_list(value):
    return [value] if isinstance(value, str) else value


class Arm(BaseModel):
    """One condition a model answers under; `{}` is plain generation."""

    model_config = ConfigDict(extra="forbid")

    steer: list[str] = Field(default_factory=list)
    """Steering specs `VECTOR@LAYERS:COEF`; VECTOR is a vector-making step's id or a path."""
    ablate: list[str] = Field(default_factory=list)
    """Ablation specs `VECTOR@LAYERS`."""
    cap: list[str] = Field(default_factory=list)
    """Capping specs `VECTOR@LAYERS:MIN:MAX`."""
    system: str | None = None
    """System prompt for this arm (overrides the step's)."""

    _lists = field_validator("steer", "ablate", "cap", mode="before")(lambda cls, v: _as_list(v))

    @field_validator("steer", "ablate", "cap")
    @classmethod
    def _parse(cls, specs: list[str], info):
        # Syntax and numbers now (nan, 14.5, 20-10, min > max), so a bad spec fails
        # validation rather than a run whose model has loaded.
        from personascope.engine import InterventionItem
        from personascope.errors import PersonascopeError

        for spec in specs:
            try:
                InterventionItem.parse(info.field_name, spec)
            except PersonascopeError as exc:
                raise ValueError(str(exc)) from None
        return specs

    def specs(self) -> list[tuple[str, str]]:
        return [("steer", s) for s in self.steer] + [("ablate", s) for s in self.ablate] + [("cap", s) for s in self.cap]


PLAIN, STEERED, CAPPED, ABLATED = "plain", "steered", "capped", "ablated"
DEFAULT = "default"
"""The one arm of a step that names none: the model with no intervention, like
`plain`. Results, `--json` output and scripts read a lone arm under this name;
`runs compare` pairs it with a comparison's `plain` arm."""
ARM_NAMES = (DEFAULT, PLAIN, STEERED, CAPPED, ABLATED)


def default_arms() -> dict[str, Arm]:
    """The arms of a step that names none: one untreated arm, `default`."""
    return {DEFAULT: Arm()}


def untreated(name: str) -> bool:
    """Whether an arm name means the model with no intervention (`default`, `plain`)."""
    return name in (DEFAULT, PLAIN)


def treated_name(arm: Arm) -> str:
    """The CLI's name for an arm with interventions: steered if it steers, else
    capped if it caps, else ablated."""
    return STEERED if arm.steer else CAPPED if arm.cap else ABLATED if arm.ablate else PLAIN


def arms_from_specs(steer: Sequence[str] = (), ablate: Sequence[str] = (), cap: Sequence[str] = (), *,
                    compare: bool = False) -> dict[str, Arm]:
    """The arms a command line asks for: the default arm alone; or the treated arm; or, with
    `compare`, plain first (differences are reported against it) and then the treated arm."""
    from personascope.errors import PersonascopeError

    from personascope.engine import InterventionSpec

    InterventionSpec.parse(steer, ablate, cap)  # a malformed spec: one error line, before any model loads
    treated = Arm(steer=list(steer), ablate=list(ablate), cap=list(cap))
    if not treated.specs():
        if compare:
            raise PersonascopeError("--compare needs something to compare: give --steer, --ablate or --cap")
        return default_arms()
    name = treated_name(treated)
    return {PLAIN: Arm(), name: treated} if compare else {name: treated}
