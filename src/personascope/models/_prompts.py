"""Prompt files: JSONL records (`prompt` text or `messages`), or one prompt a line.

Every JSONL line is validated on its own, so a stray `42`, a list or a
`"messages": "hi"` is an error naming `file:line` and the shape, not a prompt."""

import json
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from personascope._yamlerrors import read_text
from personascope.errors import PersonascopeError

SHAPE = (
    'one JSON object per line: {"prompt": "text"} or '
    '{"messages": [{"role": "user", "content": "text"}]} (roles: system, user, assistant); other fields are kept'
)


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str


class PromptRecord(BaseModel):
    """One JSONL prompt; fields besides these are kept and copied to the output."""

    model_config = ConfigDict(extra="allow")

    prompt: str | None = Field(None, min_length=1)
    messages: list[Message] | None = Field(None, min_length=1)
    id: str | int | None = None

    @model_validator(mode="after")
    def _one(self) -> "PromptRecord":
        if self.prompt is None and self.messages is None:
            raise ValueError("needs a 'prompt' string or a 'messages' list")
        return self


def _problem(exc: ValidationError) -> str:
    out = []
    for e in exc.errors():
        where = ".".join(map(str, e["loc"]))
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "model_type" and not e["loc"]:
            msg = f"a record is a JSON object, not {type(e['input']).__name__} {json.dumps(e['input'])[:40]}"
        out.append(f"{where}: {msg}" if where else msg)
    return "; ".join(out)


def read_prompts(path: str) -> list[dict]:
    """Prompts from a file (`-` for stdin): JSONL records with `prompt` (text) or
    `messages` (role/content list), other fields kept; or plain text, one prompt a line.
    A `.jsonl` file, or one whose first line starts with `{`, is read as JSONL."""
    if path == "-":
        text, where = sys.stdin.read(), "<stdin>"
    else:
        file = Path(path).expanduser()
        if file.is_dir():
            raise PersonascopeError(f"{path} is a directory (fix: give a prompts file: JSONL, or one prompt a line)")
        if not file.is_file():
            raise PersonascopeError(f"no such prompts file: {path} (fix: check the path)")
        text, where = read_text(file, "prompts file"), path
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise PersonascopeError(f"{where} has no prompts (fix: write one per line, or JSONL with a 'prompt' field)")
    as_json = where.lower().endswith(".jsonl") or lines[0][1].lstrip().startswith("{")
    if not as_json:
        return [{"prompt": line} for _, line in lines]
    records = []
    for n, line in lines:
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PersonascopeError(f"{where}:{n}: not valid JSON ({exc.msg}) (fix: {SHAPE})") from None
        try:
            PromptRecord.model_validate(raw)
        except ValidationError as exc:
            raise PersonascopeError(f"{where}:{n}: {_problem(exc)} (fix: {SHAPE})") from None
        records.append(raw)
    return records
