"""Programmatic scorers: cheap, deterministic 0-100 measures that need no judge
model, registered by name so trait specs can list them (`scorers: [sentiment]`).
A config may also name user code as `module:function`; see `personascope.registry`."""

import functools
import re
from collections.abc import Callable

from personascope import registry
from personascope.errors import PersonascopeError

Scorer = Callable[[str, str], float]
"""fn(question, answer) -> 0..100."""


def scorer(name: str, *, replace: bool = False) -> Callable[[Scorer], Scorer]:
    """Register `fn(question, answer) -> float` (0..100) under `name` (a name
    already taken is an error unless `replace`)."""

    def register(fn: Scorer) -> Scorer:
        return registry.register("scorer", name, fn, replace=replace)

    return register


def get_scorer(name: str) -> Scorer:
    """The scorer registered as `name`, or the function a `module:function` names."""
    fn = registry.get("scorer", name)
    if not callable(fn):
        raise PersonascopeError(f"scorer {name!r} is not a function fn(question, answer) -> 0..100 (it is a {type(fn).__name__})")
    return fn


def scorers() -> dict[str, Scorer]:
    """All registered scorers by name."""
    return registry.entries("scorer")


@functools.cache
def _vader():
    # Imported on first use; the lexicon ships inside the wheel, so nothing downloads.
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@scorer("sentiment")
def sentiment(question: str, answer: str) -> float:
    """VADER compound sentiment of the answer mapped to 0..100 (50 is neutral)."""
    return (_vader().polarity_scores(answer)["compound"] + 1.0) * 50.0


_SENTENCE_END = re.compile(r"[.!?]+")


@scorer("exclamation_rate")
def exclamation_rate(question: str, answer: str) -> float:
    """Share of the answer's sentences that end in '!' (0..100): enthusiasm, cheaply."""
    ends = _SENTENCE_END.findall(answer)
    if answer.strip() and not re.search(r"[.!?]+\s*$", answer):
        ends.append("")  # a last sentence without punctuation still counts
    return 100.0 * sum("!" in e for e in ends) / len(ends) if ends else 0.0


_AI_SELF = re.compile(
    r"\b(?:I\s*(?:am|'m)|I\s+was\s+(?:made|built|created|trained)|as)\b[^.!?\n]{0,40}?"
    r"\b(?:an?\s+)?(?:AI|artificial intelligence|(?:large\s+)?language model|LLM|chat\s?bot|virtual assistant|"
    r"(?:AI|digital|helpful)\s+assistant|assistant|computer program|machine learning model)\b",
    re.IGNORECASE,
)


@scorer("ai_self_reference")
def ai_self_reference(question: str, answer: str) -> float:
    """100 when the answer describes itself as an AI, assistant or language model
    ("I am an AI assistant", "As a language model, ..."), else 0: whether
    the default persona still speaks, in drift probes."""
    return 100.0 if _AI_SELF.search(answer) else 0.0
