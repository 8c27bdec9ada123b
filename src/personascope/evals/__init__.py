"""Persona evaluation suites: define items, judges and statistics once; run them
batched and steerable with `run_eval` (`personascope eval`), or as Inspect tasks
(`inspect eval personascope/<suite>`).

    result = run_eval("trait", "smollm2", options={"trait": "evil"}, limit=10)
    print(result.headline("default"))

See docs/evals.md for the suites and what they measure.
"""

from personascope.protocol import Arm
from personascope.evals._result import EvalResult
from personascope.evals._run import run_eval
from personascope.evals._study import eval_study, run_eval_study
from personascope.evals._suite import Item, Judge, Response, Row, Stat, Suite, SuiteOptions, get_suite, list_suites, numeric_means, suite

__all__ = [
    "Arm",
    "EvalResult",
    "Item",
    "Judge",
    "Response",
    "Row",
    "Stat",
    "Suite",
    "SuiteOptions",
    "eval_study",
    "get_suite",
    "list_suites",
    "numeric_means",
    "run_eval",
    "run_eval_study",
    "suite",
]
