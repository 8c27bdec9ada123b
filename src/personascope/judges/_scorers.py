"""Programmatic scorers: cheap, deterministic 0-100 measures that need no judge
model, registered by name so trait specs can list them (`scorers: [sentiment]`)."""

import functools
import re
from collections.abc import Callable

from personascope.errors import PersonascopeError

Scorer = Callable[[str, str], float]
"""fn(question, answer) -> 0..100."""

_REGISTRY: dict[str, Scorer] = {}


def scorer(name: str) -> Callable[[Scorer], Scorer]:
    """Register `fn(question, answer) -> float` (0..100) under `name`."""

    def register(fn: Scorer) -> Scorer:
        _REGISTRY[name] = fn
        return fn

    return register


def get_scorer(name: str) -> Scorer:
    from personascope import registry

    if name not in _REGISTRY and registry.is_ref(name):  # user code, `module:function`
        return registry.resolve_ref(name)
    try:
        return _REGISTRY[name]
    except KeyError:
        raise PersonascopeError(f"unknown scorer {name!r}: choose from {', '.join(sorted(_REGISTRY))}") from None


def scorers() -> dict[str, Scorer]:
    """All registered scorers by name."""
    return dict(_REGISTRY)


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
