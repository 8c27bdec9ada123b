"""The self-chat setup as data (`conversations/data/selfchat.yaml`: system prompt,
opening, judge template, end-state categories, bliss lexicon) and the two
programmatic message scores, bliss and repeat."""

import re
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from personascope._yamlerrors import load_yaml, read_text, validate
from personascope.errors import PersonascopeError

BUILTIN = "<built-in selfchat.yaml>"
UNCLASSIFIED = "unclassified"
"""The end state of a conversation the judge could not place."""
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def _check_categories(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    if not 2 <= len(value) <= 26:
        raise ValueError(f"give 2 to 26 categories, not {len(value)}")
    for name, text in value.items():
        if not _NAME.match(name):
            raise ValueError(f"category name {name!r}: use letters, digits, '-' and '_', starting with a letter")
        if name == UNCLASSIFIED:
            raise ValueError(f"{UNCLASSIFIED!r} is reserved for end states the judge could not place")
        if not text.strip():
            raise ValueError(f"category {name!r} needs a one-line description")
    return value


class Lexicon(BaseModel):
    """Words and emojis of the bliss score."""

    model_config = ConfigDict(extra="forbid")

    words: list[str] = Field(min_length=1)
    """Lowercase words; one ending in `*` matches every word that starts with it."""
    emojis: list[str] = Field(default_factory=list)


class SelfChatData(BaseModel):
    """A selfchat YAML file; a user's file may set any subset of the entries."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    system: str | None = None
    """Both copies' system prompt ("" for none)."""
    opening: str | None = Field(None, min_length=1)
    """The first copy's first user message."""
    judge: str | None = None
    """The judge's template with {question} (the opening), {answer} (the end state) and {options}."""
    categories: dict[str, str] | None = None
    """End-state categories: name -> one-line description."""
    bliss: Lexicon | None = None

    _categories = field_validator("categories")(classmethod(lambda cls, v: _check_categories(v)))

    @field_validator("judge")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        missing = [p for p in ("{question}", "{answer}", "{options}") if value is not None and p not in value]
        if missing:
            raise ValueError(f"the judge template must contain {' and '.join(missing)}")
        return value


def _parse(text: str, name: str) -> SelfChatData:
    raw = load_yaml(text, name)
    if not isinstance(raw, dict):
        raise PersonascopeError(f"{name}: a selfchat file is a mapping (fix: start from the built-in conversations/data/selfchat.yaml)")
    return validate(SelfChatData, raw, text, name, what="selfchat file", docs="docs/selfchat.md")


@cache
def _builtin() -> SelfChatData:
    return _parse((resources.files("personascope.conversations") / "data" / "selfchat.yaml").read_text(encoding="utf-8"), BUILTIN)


def load_data(file: str | None = None) -> SelfChatData:
    """The built-in setup, with the entries `file` (a YAML path, read afresh) sets replacing it."""
    data = _builtin()
    if file is not None:
        path = Path(file).expanduser()
        if not path.is_file():
            raise PersonascopeError(f"no such selfchat file {file} (fix: check the path; the layout is in docs/selfchat.md)")
        data = data.model_copy(update=_parse(read_text(path, "self-chat file"), str(file)).model_dump(exclude_none=True))
        data.bliss = Lexicon.model_validate(data.bliss)  # model_copy leaves nested updates as dicts
    return data


def bliss_score(text: str, lexicon: Lexicon | None = None) -> float:
    """Share of the text's words and emojis that are in the bliss lexicon (0..100)."""
    lexicon = lexicon or load_data().bliss
    words = _WORD.findall(text.lower())
    exact = {w.lower() for w in lexicon.words if not w.endswith("*")}
    prefixes = tuple(w[:-1].lower() for w in lexicon.words if w.endswith("*"))
    hits = sum(w in exact or (bool(prefixes) and w.startswith(prefixes)) for w in words)
    emojis = sum(text.count(e) for e in lexicon.emojis)
    total = len(words) + emojis
    return 100.0 * (hits + emojis) / total if total else 0.0


def repeat_score(text: str, previous: str) -> float:
    """Share of the text's word trigrams (words, for texts under three words) that
    also occur in `previous` (0..100): how much a message copies the one it answers."""
    words, before = _WORD.findall(text.lower()), _WORD.findall(previous.lower())
    if not words:
        return 0.0
    n = min(3, len(words))
    grams = [tuple(words[k : k + n]) for k in range(len(words) - n + 1)]
    seen = {tuple(before[k : k + n]) for k in range(len(before) - n + 1)}
    return 100.0 * sum(g in seen for g in grams) / len(grams)
