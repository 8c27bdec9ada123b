"""Conversation families: scripted user turns (and a user persona for simulated
users) by family, built in (`conversations/data/families.yaml`) or from a user file of
the same layout, whose families are added to (or replace) the built-in ones."""

from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from personascope._yamlerrors import load_yaml, validate
from personascope.errors import PersonascopeError

BUILTIN = "<built-in families.yaml>"


class ScriptTurn(BaseModel):
    """One scripted user turn; `system` replaces the conversation's system prompt from this turn on."""

    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1)
    system: str | None = None


class Family(BaseModel):
    """A kind of conversation: a description, a persona for a simulated user, scripts."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    user_persona: str = "You are a person talking to an AI assistant. Write only your next message to it, in one to three sentences."
    """System prompt of a model that plays this family's user (`user_model`)."""
    system: str | None = None
    """The target's system prompt in this family (default: the model's own default)."""
    conversations: list[list[ScriptTurn]] = Field(min_length=1)
    """Scripted conversations, each a list of user turns (a string or {user, system})."""

    @field_validator("conversations", mode="before")
    @classmethod
    def _strings(cls, value):
        if isinstance(value, list):
            return [[{"user": t} if isinstance(t, str) else t for t in conv] if isinstance(conv, list) else conv for conv in value]
        return value


class FamilyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    families: dict[str, Family] = Field(min_length=1)


def _parse(text: str, name: str) -> dict[str, Family]:
    raw = load_yaml(text, name)
    if not isinstance(raw, dict):
        raise PersonascopeError(f"{name}: a families file is a mapping with `families:` (fix: start from the built-in conversations/data/families.yaml)")
    return validate(FamilyFile, raw, text, name, what="families file", docs="docs/drift.md").families


@cache
def load_families(file: str | None = None) -> dict[str, Family]:
    """The built-in families, with those of `file` (a YAML path) added or replaced."""
    text = (resources.files("personascope.conversations") / "data" / "families.yaml").read_text(encoding="utf-8")
    families = _parse(text, BUILTIN)
    if file is not None:
        path = Path(file).expanduser()
        if not path.is_file():
            raise PersonascopeError(f"no such families file {file} (fix: check the path; the layout is in docs/drift.md)")
        families = {**families, **_parse(path.read_text(encoding="utf-8"), str(file))}
    return families


def get_family(name: str, file: str | None = None) -> Family:
    families = load_families(file)
    if name not in families:
        raise PersonascopeError(f"unknown conversation family {name!r}: choose from {', '.join(families)}")
    return families[name]
