"""Protocols: a protocol is a registered `Step` class with its pydantic config.

    from personascope.protocol import Step, step_type

    @step_type("my-probe")
    class MyProbe(Step):
        question: str
        def execute(self, model, env): ...   # returns a StepResult

Everything that runs a protocol goes through its class: its Python function (with
a `LocalEnv`), a study step (with the study's `StepContext`), its CLI command and
its one-step study (`personascope.study.run_step`). Results meet one contract,
`StepResult`, and are written by one call, `Context.record`. Arms share one
vocabulary: `default` (the lone arm of a step that compares nothing), `plain`,
`steered`, `capped`, `ablated`, plus named arms.
"""

from personascope.protocol._arms import (
    ABLATED,
    ARM_NAMES,
    CAPPED,
    DEFAULT,
    PLAIN,
    STEERED,
    Arm,
    arms_from_specs,
    default_arms,
    treated_name,
    untreated,
)
from personascope.protocol._context_names import VECTOR_DIR
from personascope.protocol._env import Context, Env, LocalEnv
from personascope.protocol._result import StepResult, check_result
from personascope.protocol._step import Step, spec_vector_name, step_type, step_types

__all__ = [
    "ABLATED",
    "ARM_NAMES",
    "CAPPED",
    "DEFAULT",
    "PLAIN",
    "STEERED",
    "VECTOR_DIR",
    "Arm",
    "Context",
    "Env",
    "LocalEnv",
    "Step",
    "StepResult",
    "arms_from_specs",
    "check_result",
    "default_arms",
    "spec_vector_name",
    "step_type",
    "step_types",
    "treated_name",
    "untreated",
]
