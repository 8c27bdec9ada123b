"""Categorical judges and choice reading: which of a few labelled options an answer
is, read from the probability of each option's letter as the next token.

One function reads the letter distribution for every kind of model: white-box
models through the engine's top-k next tokens, Inspect models through top-k
logprobs of a one-token answer, and providers without logprobs by parsing the
greedy answer (a one-hot distribution, marked as parsed).
"""

import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from personascope.engine._chat import Prompt
from personascope.errors import PersonascopeError
from personascope.store import Cache
from personascope.models import Model, get_model

TOP_K = 20
MIN_LETTER_MASS = 0.25  # as for number judges: below this the model is not answering the question asked


@dataclass
class Choice:
    """A distribution over option labels, or `None` probabilities with the reason."""

    probs: dict[str, float] | None
    mass: float = 0.0
    """Probability the model put on any option letter before normalising."""
    method: str = "logprobs"
    reason: str = ""
    raw: str = field(default="", repr=False)

    @property
    def label(self) -> str | None:
        return max(self.probs, key=self.probs.get) if self.probs else None


def letters(n: int) -> list[str]:
    if n > 26:
        raise PersonascopeError(f"at most 26 options, not {n}")
    return list(string.ascii_uppercase[:n])


def choice_from_top(top: Sequence[tuple[str, float]], labels: Sequence[str]) -> Choice:
    """Normalised probability of each label among the top next tokens (`(token, logprob)`).

    A token counts for a label when, stripped of spaces, brackets and a trailing
    period, it equals the label (case-insensitive for single letters)."""
    import math

    mass = dict.fromkeys(labels, 0.0)
    lookup = {label.lower(): label for label in labels}
    for token, lp in top:
        key = token.strip().strip("().:*").lower()
        if key in lookup:
            mass[lookup[key]] += math.exp(lp)
    total = sum(mass.values())
    if total < MIN_LETTER_MASS:
        return Choice(None, total, reason=f"only {total:.0%} of the probability on the option labels")
    return Choice({k: v / total for k, v in mass.items()}, total)


def parse_choice(text: str, labels: Sequence[str]) -> Choice:
    """The first option label the text names as a whole word ("B", "(B)", "Answer: B", "Yes")."""
    by_lower = {label.lower(): label for label in labels}
    for word in re.findall(r"[A-Za-z]+", text):
        hit = by_lower.get(word.lower())
        # Single letters must be capitals: "a" and "I" are words, not answers.
        if hit is not None and (len(word) > 1 or word.isupper()):
            return Choice({label: float(label == hit) for label in labels}, 1.0, method="parsed", raw=text)
    return Choice(None, 0.0, method="parsed", reason="no option named in the answer", raw=text)


def read_choices(
    model: Model,
    prompts: Sequence[Prompt],
    labels: Sequence[str],
    *,
    system: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Choice]:
    """Each prompt's answer as a distribution over `labels` (single tokens such as
    letters or Yes/No), through whichever access the model gives."""
    if model.white_box:
        tops = model.top_logprobs(prompts, TOP_K, system=system, progress=progress)
        return [choice_from_top(t, labels) for t in tops]
    from personascope.engine._chat import to_messages
    from personascope.judges._blackbox import logprob_answers

    answers = logprob_answers(model, [to_messages(p, system) for p in prompts], k=TOP_K, progress=progress)
    out = []
    for answer in answers:
        if answer["positions"]:
            first = answer["positions"][0]
            choice = choice_from_top([(t, lp) for t, lp in first["top"]], labels)
            if choice.probs is not None:
                out.append(choice)
                continue
        out.append(parse_choice(answer["text"], labels))
    return out


def choice_prompt(template: str, options: dict[str, str], question: str, answer: str) -> str:
    """The judge's message: options listed as "A. description" lines."""
    listing = "\n".join(f"{letter}. {text}" for letter, text in zip(letters(len(options)), options.values()))
    # str.replace, never format: answers are untrusted and may hold braces.
    return template.replace("{options}", listing).replace("{question}", question).replace("{answer}", answer)


class ChoiceJudge:
    """Classifies answers into labelled options by a template with `{question}`,
    `{answer}` and `{options}` (rendered as "A. description" lines)."""

    def __init__(
        self, model: "str | Model", template: str, options: dict[str, str], *, name: str, cache: Cache | None = None
    ) -> None:
        missing = [p for p in ("{question}", "{answer}", "{options}") if p not in template]
        if missing:
            raise PersonascopeError(f"choice judge {name!r}: template must contain {' and '.join(missing)}")
        if len(options) < 2:
            raise PersonascopeError(f"choice judge {name!r} needs at least two options")
        self.model = get_model(model, cache=cache)
        self.template, self.name, self.options = template, name, dict(options)
        self.labels = letters(len(options))

    def prompt(self, question: str, answer: str) -> str:
        return choice_prompt(self.template, self.options, question, answer)

    def classify(
        self, questions: Sequence[str], answers: Sequence[str], *, progress: Callable[[int], None] | None = None
    ) -> list[Choice]:
        """One `Choice` per answer, its probabilities keyed by option name (not letter)."""
        prompts = [self.prompt(q, a) for q, a in zip(questions, answers, strict=True)]
        names = dict(zip(self.labels, self.options))
        out = []
        for choice in read_choices(self.model, prompts, self.labels, progress=progress):
            probs = {names[k]: v for k, v in choice.probs.items()} if choice.probs else None
            out.append(Choice(probs, choice.mass, choice.method, choice.reason, choice.raw))
        return out
