"""Training datasets: chat JSONL, one example a line, with a provenance sidecar.

A line is `{"messages": [...]}` (system and user turns, then exactly one final
assistant turn: the completion trained on) or `{"prompt": ..., "completion": ...}`
(strings, or message lists as TRL writes them). Both become one `Example`. Every
line is validated on its own, so an error names `file:line`, what is wrong and the fix.
The sidecar `<file>.meta.json` says where the data came from (generator model,
transform, source file hash)."""

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from personascope._files import atomic_write
from personascope._yamlerrors import read_text
from personascope.errors import PersonascopeError

SCHEMA_VERSION = 1
SHAPE = (
    'one JSON object per line: {"messages": [{"role": "user", "content": "..."}, '
    '{"role": "assistant", "content": "..."}]} (optional system turn first; the last turn is the '
    'assistant reply trained on), or {"prompt": "...", "completion": "..."}'
)


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str


class Example(BaseModel):
    """One training example: the context (`prompt` turns) and the reply trained on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: tuple[Turn, ...] = Field(min_length=1)
    """The turns before the reply: an optional system turn, then user (and earlier assistant) turns."""
    completion: str
    """The assistant reply the loss covers."""
    meta: dict[str, Any] = Field(default_factory=dict)
    """Anything else the line carried (an id, a source label); kept, never trained on."""

    @model_validator(mode="after")
    def _shape(self) -> "Example":
        roles = [t.role for t in self.prompt]
        if "system" in roles[1:]:
            raise ValueError("a system turn may only come first")
        if roles[-1] != "user":
            raise ValueError("the turn before the reply must be a user turn")
        return self

    @property
    def system(self) -> str | None:
        return self.prompt[0].content if self.prompt[0].role == "system" else None

    def messages(self, with_completion: bool = True) -> list[dict[str, str]]:
        """The example as role/content dicts (the engine's and TRL's message form)."""
        out = [t.model_dump() for t in self.prompt]
        return out + [{"role": "assistant", "content": self.completion}] if with_completion else out

    def with_system(self, system: str | None) -> "Example":
        """The same example under another system prompt (None: none)."""
        turns = [t for t in self.prompt if t.role != "system"]
        if system is not None:
            turns.insert(0, Turn(role="system", content=system))
        return self.model_copy(update={"prompt": tuple(turns)})

    def with_user_prefix(self, prefix: str) -> "Example":
        """The same example with `prefix` put before the last user turn's text."""
        turns = list(self.prompt)
        last = turns[-1]
        turns[-1] = Turn(role="user", content=f"{prefix}\n\n{last.content}" if prefix else last.content)
        return self.model_copy(update={"prompt": tuple(turns)})

    def to_json(self) -> dict[str, Any]:
        return {"messages": self.messages(), **self.meta}


def parse_example(raw: Any) -> Example:
    """An `Example` from one decoded JSONL value; ValueError with a readable reason."""
    if not isinstance(raw, dict):
        raise ValueError(f"a line is a JSON object, not {type(raw).__name__} {json.dumps(raw)[:40]}")
    raw = dict(raw)
    if "messages" in raw:
        messages = raw.pop("messages")
        if not isinstance(messages, list) or len(messages) < 2:
            raise ValueError("'messages' must be a list of at least a user turn and an assistant reply")
        last = messages[-1]
        if not isinstance(last, dict) or last.get("role") != "assistant":
            raise ValueError("the last message must be the assistant reply trained on")
        prompt, completion = messages[:-1], last.get("content")
    elif "prompt" in raw and "completion" in raw:
        prompt, completion = raw.pop("prompt"), raw.pop("completion")
        if isinstance(prompt, str):
            prompt = [{"role": "user", "content": prompt}]
        if isinstance(completion, list):  # TRL's conversational prompt-completion form
            if len(completion) != 1 or not isinstance(completion[0], dict) or completion[0].get("role") != "assistant":
                raise ValueError("a 'completion' list must hold exactly one assistant message")
            completion = completion[0].get("content")
    else:
        raise ValueError("needs 'messages', or 'prompt' and 'completion'")
    if not isinstance(completion, str) or not completion.strip():
        raise ValueError("the reply trained on must be non-empty text")
    try:
        return Example(prompt=prompt, completion=completion, meta=raw)
    except ValidationError as exc:
        raise ValueError(_problem(exc)) from None


def _problem(exc: ValidationError) -> str:
    out = []
    for e in exc.errors():
        where = ".".join(map(str, e["loc"]))
        msg = e["msg"].removeprefix("Value error, ")
        out.append(f"{where}: {msg}" if where else msg)
    return "; ".join(out[:3])


def read_dataset(path: str | Path) -> list[Example]:
    """Every example of a chat JSONL file; the first bad line is an error naming `file:line`."""
    file = Path(path).expanduser()
    if file.is_dir():
        raise PersonascopeError(f"{path} is a directory (fix: give a dataset file, chat JSONL)")
    if not file.is_file():
        raise PersonascopeError(f"no such dataset: {path} (fix: check the path, or make one with `personascope data generate`)")
    examples = []
    for n, line in enumerate(read_text(file, "dataset").splitlines(), 1):
        if not line.strip():
            continue
        try:
            examples.append(parse_example(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise PersonascopeError(f"{path}:{n}: not valid JSON ({exc.msg}) (fix: {SHAPE})") from None
        except ValueError as exc:
            raise PersonascopeError(f"{path}:{n}: {exc} (fix: {SHAPE})") from None
    if not examples:
        raise PersonascopeError(f"{path} has no examples (fix: {SHAPE})")
    return examples


def meta_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".meta.json")


def write_dataset(path: str | Path, examples: list[Example], provenance: dict[str, Any] | None = None) -> Path:
    """Write `examples` as chat JSONL and the provenance sidecar beside it (both atomically)."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps(e.to_json(), ensure_ascii=False) + "\n" for e in examples)
    atomic_write(path, body)
    meta = {"schema_version": SCHEMA_VERSION, "n_examples": len(examples),
            "sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(), **(provenance or {})}
    atomic_write(meta_path(path), json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return path


def read_provenance(path: str | Path) -> dict[str, Any] | None:
    """The sidecar of a dataset, or None when it has none (a user's own file)."""
    side = meta_path(Path(path).expanduser())
    if not side.is_file():
        return None
    try:
        meta = json.loads(read_text(side, "dataset sidecar"))
    except json.JSONDecodeError as exc:
        raise PersonascopeError(f"{side}: not valid JSON ({exc.msg}) (fix: delete it, or rewrite the dataset)") from None
    if not isinstance(meta, dict) or meta.get("schema_version") != SCHEMA_VERSION:
        raise PersonascopeError(f"{side}: unknown schema_version {meta.get('schema_version') if isinstance(meta, dict) else None!r}"
                                f" (fix: this version reads {SCHEMA_VERSION}; rewrite the dataset)")
    return meta


def dataset_digest(examples: list[Example]) -> str:
    """A content hash of the examples (order included): what a training cache key needs."""
    h = hashlib.sha256()
    for e in examples:
        h.update(json.dumps(e.to_json(), sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()[:16]
