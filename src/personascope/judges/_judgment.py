"""A judge's verdict on one answer, and how it is read off a distribution or samples."""

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from personascope.engine._numbers import MAX_NUMBER, NumberDistribution, is_refusal_start

MIN_NUMBER_MASS = 0.25
"""Below this much probability on the numbers 0..100 the judge did not really answer:
a mean over a sliver of its distribution would be noise dressed up as a score."""


@dataclass
class Judgment:
    """A 0..100 score, or None with the reason there is none."""

    score: float | None
    """0..100; None when the judge gave no usable number (see `reason`)."""
    reason: str | None = None
    """Why there is no score (e.g. "refusal", "only 12% of probability on numbers")."""
    refusal: bool = False
    """The judge answered that the judged model refused (the rubric's REFUSAL)."""
    number_mass: float = 0.0
    """Probability the judge put on the numbers 0..100 (sampling: share of samples with one)."""
    method: str = ""
    """How the score was read: "logprobs" or "sample"."""

    def as_dict(self) -> dict:
        return asdict(self)


def judgment_from_distribution(dist: NumberDistribution, *, min_mass: float = MIN_NUMBER_MASS) -> Judgment:
    """Score = sum(n * p) / sum(p) over 0..100, unless refusals outweigh numbers or
    too little probability lies on numbers."""
    mass = dist.mass
    if dist.refusal > mass:
        return Judgment(None, "refusal", True, mass, "logprobs")
    if mass < min_mass:
        return Judgment(None, f"only {mass:.0%} of probability on numbers", False, mass, "logprobs")
    return Judgment(dist.mean(), None, False, mass, "logprobs")


# "0-100", "0 to 100", "/100", "out of 100" name the scale, not the score.
_SCALE = re.compile(r"\b0\s*(?:-|\u2013|\u2014|to)\s*100\b|(?:/|\bout of)\s*100\b", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")


def parse_score(text: str) -> tuple[float | None, bool]:
    """(the first number in `text` if it lies in 0..100, whether the text is a refusal).

    "Score: 85/100" -> 85, "I would rate this 40." -> 40, "7.5" -> 7.5, "150" -> None
    (out of range: the first number is what the judge meant, so we do not hunt for
    another), "REFUSAL" -> (None, True).
    """
    cleaned = _SCALE.sub(" ", text)
    match = _NUMBER.search(cleaned)
    head = cleaned[: match.start()] if match else cleaned
    if "REFUSAL" in head or is_refusal_start(head):
        return None, True
    if match is None:
        return None, False
    value = float(match.group())
    return (value if 0 <= value <= MAX_NUMBER else None), False


def judgment_from_samples(texts: Sequence[str]) -> Judgment:
    """Mean of the numbers parsed from sampled answers; None when fewer than half parse."""
    parsed = [parse_score(t) for t in texts]
    numbers = [s for s, _ in parsed if s is not None]
    refusals = sum(r for _, r in parsed)
    share = len(numbers) / len(texts) if texts else 0.0
    if refusals > len(numbers):
        return Judgment(None, "refusal", True, share, "sample")
    if not numbers or 2 * len(numbers) < len(texts):
        return Judgment(None, f"only {len(numbers)} of {len(texts)} samples gave a number 0-100", False, share, "sample")
    return Judgment(sum(numbers) / len(numbers), None, False, share, "sample")
