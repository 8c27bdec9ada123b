"""The judge sanity check: does the judge tell trait-prompted answers from
anti-trait-prompted ones? Run on every use, because a weak judge (a 135M model,
a rubric the judge misreads) produces confident-looking numbers all the same."""

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

MIN_SCORES = 5
"""Fewer scored answers per side than this and an AUROC means nothing."""


@dataclass
class SanityCheck:
    """AUROC of judge scores, positive- vs negative-prompted answers."""

    auroc: float
    """P(score of a random positive > score of a random negative), ties half; NaN without scores."""
    n_pos: int
    """Positive-prompted answers with a score."""
    n_neg: int
    """Negative-prompted answers with a score."""
    ok: bool
    warning: str | None
    n_missing: int = 0
    """Answers the judge gave no score (dropped before the AUROC)."""
    threshold: float = 0.7

    def as_dict(self) -> dict:
        return asdict(self)


def _finite(scores: Sequence[float | None]) -> list[float]:
    return [float(s) for s in scores if s is not None and math.isfinite(s)]


def sanity_check(
    pos_scores: Sequence[float | None], neg_scores: Sequence[float | None], *, threshold: float = 0.7, name: str = "trait"
) -> SanityCheck:
    """Check that judge scores separate answers written under the trait's positive
    and negative instructions. None scores are dropped and counted."""
    from personascope.stats import auroc

    pos, neg = _finite(pos_scores), _finite(neg_scores)
    missing = len(pos_scores) + len(neg_scores) - len(pos) - len(neg)
    value = auroc(pos, neg)
    dropped = f" ({missing} answers had no score)" if missing else ""
    if len(pos) < MIN_SCORES or len(neg) < MIN_SCORES:
        warning = (
            f"judge sanity check for {name!r}: only {len(pos)} positive and {len(neg)} negative answers were "
            f"scored{dropped}; at least {MIN_SCORES} of each are needed to trust the judge"
        )
    elif value < threshold:
        warning = (
            f"judge sanity check for {name!r}: AUROC {value:.2f} < {threshold:.2f}{dropped}: the judge barely tells "
            "answers written to show the trait from answers written to avoid it, so its scores are not "
            "trustworthy; use a stronger judge model or sharpen the rubric"
        )
    else:
        warning = None
    return SanityCheck(value, len(pos), len(neg), warning is None, warning, missing, threshold)
