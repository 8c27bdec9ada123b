"""Persona evaluation suites: define items, judges and statistics once; run them
batched and steerable with `run_eval` (`personascope eval`), or as Inspect tasks
(`inspect eval personascope/<suite>`). The protocol is `EvalStep`: `run_eval`, a
study's `eval` step and `personascope eval` all run through it.

    result = run_eval("trait", "smollm2", options={"trait": "evil"}, limit=10)
    print(result.headline("default"))

See docs/evals.md for the suites and what they measure.
"""

from personascope.protocol import Arm
from personascope.evals._result import EvalResult
from personascope.evals._run import run_eval
from personascope.evals._step import EvalStep
from personascope.evals._suite import Item, Judge, Response, Row, Stat, Suite, SuiteOptions, get_suite, list_suites, numeric_means, suite

__all__ = [
    "Arm",
    "EvalResult",
    "EvalStep",
    "Item",
    "Judge",
    "Response",
    "Row",
    "Stat",
    "Suite",
    "SuiteOptions",
    "get_suite",
    "list_suites",
    "numeric_means",
    "run_eval",
    "suite",
]
