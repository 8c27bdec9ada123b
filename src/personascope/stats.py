"""Small statistics every step reports: means with bootstrap confidence intervals."""

from collections.abc import Sequence
from dataclasses import dataclass
import math


@dataclass(frozen=True)
class Estimate:
    """A mean with a percentile-bootstrap confidence interval."""

    value: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        if math.isnan(self.value):
            return "n/a"
        return f"{self.value:.3g} [{self.low:.3g}, {self.high:.3g}]"


def bootstrap_mean(values: Sequence[float], *, level: float = 0.95, n_boot: int = 2000, seed: int = 0) -> Estimate:
    """Mean of the finite `values` with a percentile-bootstrap CI (NaN when empty).

    With a single value the interval collapses to it: one sample says nothing about spread.
    """
    import numpy as np

    x = np.asarray([v for v in values if v is not None], dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Estimate(float(x.mean()), float(low), float(high), int(x.size))


def bootstrap_diff(
    a: Sequence[float], b: Sequence[float], *, level: float = 0.95, n_boot: int = 2000, seed: int = 0
) -> Estimate:
    """mean(a) - mean(b) for independent samples, with a percentile-bootstrap CI."""
    import numpy as np

    xa = np.asarray(a, dtype=float)
    xb = np.asarray(b, dtype=float)
    xa, xb = xa[np.isfinite(xa)], xb[np.isfinite(xb)]
    if xa.size == 0 or xb.size == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    rng = np.random.default_rng(seed)
    da = xa[rng.integers(0, xa.size, size=(n_boot, xa.size))].mean(axis=1)
    db = xb[rng.integers(0, xb.size, size=(n_boot, xb.size))].mean(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(da - db, [alpha, 1 - alpha])
    return Estimate(float(xa.mean() - xb.mean()), float(low), float(high), int(xa.size + xb.size))


def cohens_d(a: Sequence[float], b: Sequence[float]) -> float:
    """Standardized mean difference with the pooled standard deviation."""
    import numpy as np

    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if xa.size < 2 or xb.size < 2:
        return math.nan
    pooled = ((xa.size - 1) * xa.var(ddof=1) + (xb.size - 1) * xb.var(ddof=1)) / (xa.size + xb.size - 2)
    return float((xa.mean() - xb.mean()) / math.sqrt(pooled)) if pooled > 0 else math.nan


def auroc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    import numpy as np

    p, n = np.asarray(positive, dtype=float), np.asarray(negative, dtype=float)
    if p.size == 0 or n.size == 0:
        return math.nan
    greater = (p[:, None] > n[None, :]).sum()
    ties = (p[:, None] == n[None, :]).sum()
    return float((greater + 0.5 * ties) / (p.size * n.size))
