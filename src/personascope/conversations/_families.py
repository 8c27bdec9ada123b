"""Conversation families: scripted user turns (and a user persona for simulated
users) by family, built in (`conversations/data/families.yaml`) or from a user file of
the same layout, whose families are added to (or replace) the built-in ones.

A conversation is a list of user turns, or a mapping `{turns, probes, scorers}`
whose probes and scorers replace the run's for that conversation alone (an
instruction-stability benchmark gives each conversation its own check)."""

from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from personascope._yamlerrors import YamlErrors, load_yaml, read_text
from personascope.conversations._measure import Probe, check_probes, check_scorers
from personascope.errors import PersonascopeError

BUILTIN = "<built-in families.yaml>"


class ScriptTurn(BaseModel):
    """One scripted user turn; `system` replaces the conversation's system prompt from this turn on."""

    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1)
    system: str | None = None


class Conversation(BaseModel):
    """One scripted conversation: its user turns and, optionally, its own checks.
    Indexing and `len` reach the turns, as when a conversation was a plain list."""

    model_config = ConfigDict(extra="forbid")

    turns: list[ScriptTurn] = Field(min_length=1)
    """User turns, each a string or {user, system}."""
    probes: list[Probe] | None = None
    """Probe questions for this conversation, replacing the run's (`[]` for none)."""
    scorers: list[str] | None = None
    """Reply scorers for this conversation (names or `module:function`), replacing the run's."""

    @model_validator(mode="before")
    @classmethod
    def _plain_list(cls, value):
        return {"turns": value} if isinstance(value, list) else value

    @field_validator("turns", mode="before")
    @classmethod
    def _strings(cls, value):
        return [{"user": t} if isinstance(t, str) else t for t in value] if isinstance(value, list) else value

    _scorers = field_validator("scorers")(classmethod(lambda cls, v: v if v is None else check_scorers(v)))
    _probes = field_validator("probes")(classmethod(lambda cls, v: v if v is None else check_probes(v)))

    def __len__(self) -> int:
        return len(self.turns)

    def __getitem__(self, index):
        return self.turns[index]


class Family(BaseModel):
    """A kind of conversation: a description, a persona for a simulated user, scripts."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    user_persona: str = "You are a person talking to an AI assistant. Write only your next message to it, in one to three sentences."
    """System prompt of a model that plays this family's user (`user_model`)."""
    system: str | None = None
    """The target's system prompt in this family (default: the model's own default)."""
    conversations: list[Conversation] = Field(min_length=1)
    """Scripted conversations, each a list of user turns (a string or {user, system}),
    or a mapping {turns, probes, scorers} with checks of its own."""


class FamilyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    families: dict[str, Family] = Field(min_length=1)


def _parse(text: str, name: str) -> dict[str, Family]:
    raw = load_yaml(text, name)
    if not isinstance(raw, dict):
        raise PersonascopeError(f"{name}: a families file is a mapping with `families:` (fix: start from the built-in conversations/data/families.yaml)")
    try:
        return FamilyFile.model_validate(raw).families
    except ValidationError as exc:
        errors = YamlErrors(name, text, what="families file", docs="docs/drift.md")
        errors.add_pydantic(_ListForm(exc, raw), fields=list(FamilyFile.model_fields))
        errors.raise_if_any()
        raise AssertionError("unreachable") from None


class _ListForm:
    """The errors of a validation, located as the file is written: in a conversation
    written as a plain list, pydantic's `turns` step is not in the file."""

    def __init__(self, exc: ValidationError, raw: dict) -> None:
        self.exc, self.raw = exc, raw

    def errors(self) -> list[dict]:
        out = []
        for err in self.exc.errors():
            loc = err["loc"]
            if len(loc) > 4 and loc[0] == "families" and loc[2] == "conversations" and loc[4] == "turns":
                families = self.raw.get("families")
                family = families.get(loc[1]) if isinstance(families, dict) else None
                conv = family.get("conversations") if isinstance(family, dict) else None
                if isinstance(conv, list) and isinstance(loc[3], int) and loc[3] < len(conv) and isinstance(conv[loc[3]], list):
                    err = {**err, "loc": loc[:4] + loc[5:]}
            out.append(err)
        return out


@cache
def load_families(file: str | None = None) -> dict[str, Family]:
    """The built-in families, with those of `file` (a YAML path) added or replaced."""
    text = (resources.files("personascope.conversations") / "data" / "families.yaml").read_text(encoding="utf-8")
    families = _parse(text, BUILTIN)
    if file is not None:
        path = Path(file).expanduser()
        if not path.is_file():
            raise PersonascopeError(f"no such families file {file} (fix: check the path; the layout is in docs/drift.md)")
        families = {**families, **_parse(read_text(path, "families file"), str(file))}
    return families


def get_family(name: str, file: str | None = None) -> Family:
    families = load_families(file)
    if name not in families:
        raise PersonascopeError(f"unknown conversation family {name!r}: choose from {', '.join(families)}")
    return families[name]


@cache
def _file_families(file: str) -> frozenset[str]:
    return frozenset(_parse(Path(file).expanduser().read_text(encoding="utf-8"), str(file)))


def family_source(name: str, file: str | None = None) -> str:
    """The file family `name` comes from: `file` where it defines it, else the built-ins."""
    return file if file is not None and name in _file_families(file) else BUILTIN
