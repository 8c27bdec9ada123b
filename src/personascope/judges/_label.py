"""Label judges: the judge answers a word (TRUE / FALSE / UNKNOWN, a company's name),
not a number, as the emergent-misalignment `free_form_judge` questions ask.

The labels a prompt allows are the quoted words in it ("TRUE", "Other"); the judge's
greedy answer is matched against them as a whole word. A prompt that quotes none
("answer in one word") gets its answer's first words as the label.
"""

import re
from collections.abc import Callable, Sequence

from personascope.engine._types import GenerateConfig
from personascope.errors import PersonascopeError
from personascope.judges._choice import Choice, parse_choice
from personascope.store import Cache
from personascope.models import Model, get_model

MAX_TOKENS = 8  # a label and a little slack ("TRUE." / "The answer is FALSE")
FREE_WORDS = 3  # a label read from an answer with no listed labels
_QUOTED = re.compile(r"\"([A-Za-z][A-Za-z0-9 _'-]{0,30})\"")


def quoted_labels(template: str) -> list[str]:
    """The quoted one- to three-word labels a judge prompt lists, in order."""
    found = [q.strip() for q in _QUOTED.findall(template)]
    return list(dict.fromkeys(q for q in found if q and len(q.split()) <= FREE_WORDS))


def read_label(text: str, labels: Sequence[str]) -> Choice:
    """The label an answer gives: the first listed label it names, or (with no labels
    listed) its first words, lower-cased; `None` probabilities with the reason otherwise."""
    if labels:
        choice = parse_choice(text, labels)
        if choice.probs is None:
            choice.reason = f"the judge answered none of {', '.join(labels)}"
        return choice
    words = re.findall(r"[\w'-]+", text.strip().split("\n", 1)[0])[:FREE_WORDS]
    if not words:
        return Choice(None, 0.0, method="parsed", reason="the judge gave an empty answer", raw=text)
    return Choice({" ".join(words).lower(): 1.0}, 1.0, method="parsed", raw=text)


class LabelJudge:
    """Labels answers by a prompt with `{answer}` (and usually `{question}`), read from the
    judge's greedy answer; results are `Choice`s, one-hot on the label."""

    def __init__(self, model: "str | Model", template: str, *, name: str, cache: Cache | None = None) -> None:
        if "{answer}" not in template:
            raise PersonascopeError(f"label judge {name!r}: its prompt must contain {{answer}}")
        self.model = get_model(model, cache=cache)
        self.template, self.name = template, name
        self.labels = quoted_labels(template)

    def prompt(self, question: str, answer: str) -> str:
        # str.replace, never format: answers are untrusted and may hold braces.
        return self.template.replace("{question}", question).replace("{answer}", answer)

    def classify(
        self, questions: Sequence[str], answers: Sequence[str], *, progress: Callable[[int], None] | None = None
    ) -> list[Choice]:
        prompts = [self.prompt(q, a) for q, a in zip(questions, answers, strict=True)]
        if not prompts:
            return []
        gens = self.model.generate(prompts, GenerateConfig(max_new_tokens=MAX_TOKENS), progress=progress)
        return [read_label(g.text, self.labels) for g in gens]
