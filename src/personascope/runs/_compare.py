"""`compare_runs`: two runs' metrics side by side, matched on (step, name, arm, model).

A step run with no arms named calls its one arm `default` (evals and drift always
have); the same computation in a `--compare` run is the arm `plain`. So that a plain
run and a `--compare` run pair up, a step's `default` arm is matched as `plain`
when that step has no `plain` arm of its own."""

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from personascope.protocol import DEFAULT, PLAIN
from personascope.runs._find import resolve_run
from personascope.runs._read import open_store, store_errors
from personascope.store._runstore import Metric


@dataclass(frozen=True)
class MetricPair:
    """One metric in run A and run B; a side is None when that run lacks the metric."""

    step: str
    name: str
    arm: str
    model: str
    a: Metric | None
    b: Metric | None

    @property
    def difference(self) -> float | None:
        """B - A: how far the second run moved from the first (None if a side is missing)."""
        if self.a is None or self.b is None or self.a.value is None or self.b.value is None:
            return None
        d = self.b.value - self.a.value
        return None if math.isnan(d) else d

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"step": self.step, "name": self.name, "arm": self.arm, "model": self.model}
        for side, m in (("a", self.a), ("b", self.b)):
            for key in ("value", "ci_low", "ci_high", "n"):
                out[f"{side}_{key}"] = getattr(m, key) if m is not None else None
        out["difference"] = self.difference
        return out


@dataclass(frozen=True)
class Comparison:
    """`rows` follow run A's order, then metrics only run B has, in B's order."""

    a: str
    b: str
    a_path: Path
    b_path: Path
    rows: list[MetricPair] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a, "b": self.b, "a_path": str(self.a_path), "b_path": str(self.b_path),
            "rows": [r.to_dict() for r in self.rows],
        }


def _keyed(metrics: list[Metric]) -> dict[tuple[str, str, str, str], Metric]:
    """Metrics by (step, name, arm, model), a step's lone `default` arm read as `plain`."""
    with_plain = {(m.step, m.model) for m in metrics if m.arm == PLAIN}

    def arm(m: Metric) -> str:
        return PLAIN if m.arm == DEFAULT and (m.step, m.model) not in with_plain else m.arm

    return {(m.step, m.name, arm(m), m.model): m for m in metrics}


def _metrics(run_dir: Path) -> list[Metric]:
    store = open_store(run_dir)
    with store_errors(run_dir):
        return store.metrics()


def compare_runs(
    a: str | Path, b: str | Path, runs_dir: str | Path | None = None, *, all_metrics: bool = False
) -> Comparison:
    """Headline metrics of run `a` and run `b` side by side, with B - A.

    A metric that is headline in either run is kept, so a metric that lost its
    headline flag between versions still shows. `all_metrics` keeps every metric.
    The untreated arm pairs across runs whether it is called `plain` or `default`.
    """
    dir_a, dir_b = resolve_run(a, runs_dir), resolve_run(b, runs_dir)
    metrics_a, metrics_b = _metrics(dir_a), _metrics(dir_b)
    by_a, by_b = _keyed(metrics_a), _keyed(metrics_b)
    keys = list(by_a) + [k for k in by_b if k not in by_a]
    rows = []
    for key in keys:
        ma, mb = by_a.get(key), by_b.get(key)
        if not all_metrics and not ((ma and ma.headline) or (mb and mb.headline)):
            continue
        rows.append(MetricPair(*key, a=ma, b=mb))
    return Comparison(a=dir_a.name, b=dir_b.name, a_path=dir_a, b_path=dir_b, rows=rows)
