"""Importers: user files in the formats the reference projects ship, as `Example`s.

- OpenAI-style chat JSONL (`{"messages": [...]}` a line, as the emergent-misalignment
  and inoculation-prompting datasets are): a message's `content` may be a string or
  a list of `{"type": "text", "text": ...}` parts; other keys of a line are kept in
  `meta`, and per-message keys other than role/content (`weight`, `name`) too.
- Prompt/answer CSV (or TSV): columns found by name (prompt/question/input/...,
  completion/answer/response/output/...), or named with `prompt_column=` etc.

Every error names `file:line`, what is wrong and the fix.
"""

import csv
import io
import json
from pathlib import Path

from personascope.data._format import SHAPE, Example, parse_example
from personascope.errors import PersonascopeError

FORMATS = ("auto", "jsonl", "csv", "tsv")
PROMPT_NAMES = ("prompt", "question", "input", "instruction", "user", "query")
COMPLETION_NAMES = ("completion", "answer", "response", "output", "assistant", "reply", "target")
SYSTEM_NAMES = ("system", "system_prompt")
_SUFFIX = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}


def import_dataset(
    path: str | Path,
    *,
    format: str = "auto",
    prompt_column: str | None = None,
    completion_column: str | None = None,
    system_column: str | None = None,
) -> list[Example]:
    """Every example of a chat JSONL or prompt/answer CSV file (see the module docstring)."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise PersonascopeError(f"no such file: {path} (fix: check the path)")
    if format not in FORMATS:
        raise PersonascopeError(f"unknown format {format!r} (fix: choose from {', '.join(FORMATS)})")
    kind = _SUFFIX.get(file.suffix.lower()) if format == "auto" else format
    if kind is None:
        raise PersonascopeError(f"{path}: cannot tell the format from {file.suffix or 'no suffix'!r} (fix: pass --format jsonl or csv)")
    text = _text(file)
    if kind == "jsonl":
        if prompt_column or completion_column or system_column:
            raise PersonascopeError(f"{path}: column names apply to CSV files, not chat JSONL (fix: drop them)")
        examples = _jsonl(text, str(path))
    else:
        examples = _csv(text, str(path), "\t" if kind == "tsv" else ",", prompt_column, completion_column, system_column)
    if not examples:
        raise PersonascopeError(f"{path}: no examples (fix: {SHAPE if kind == 'jsonl' else 'a header row, then one row per example'})")
    return examples


def _text(file: Path) -> str:
    data = file.read_bytes()
    if b"\x00" in data[:8192]:
        raise PersonascopeError(f"{file}: a binary file, not a dataset (fix: give a UTF-8 JSONL or CSV file)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PersonascopeError(f"{file}:{line}: not UTF-8 text (byte {exc.start}) (fix: save the file as UTF-8)") from None


def _flatten(content, where: str):
    """A message's content as one string: text parts joined, anything else an error."""
    if isinstance(content, dict) and "parts" in content:  # {"content_type": "text", "parts": [...]}
        content = content["parts"]
    if not isinstance(content, list):
        return content
    texts = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict) and part.get("type", "text") == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        else:
            kind = part.get("type") if isinstance(part, dict) else type(part).__name__
            raise ValueError(f"{where}: a content part of type {kind!r}; only text parts can be trained on")
    return "".join(texts)


def _normalise(raw):
    """An OpenAI-style line in the shape `parse_example` reads; extra message keys into meta."""
    if not isinstance(raw, dict) or not isinstance(raw.get("messages"), list):
        return raw
    raw = dict(raw)
    messages, extras = [], {}
    for i, m in enumerate(raw["messages"]):
        if not isinstance(m, dict):
            raise ValueError(f"messages[{i}] is {type(m).__name__}, not an object with role and content")
        if "content" not in m:
            raise ValueError(f"messages[{i}] has no 'content'")
        rest = {k: v for k, v in m.items() if k not in ("role", "content")}
        if rest:
            extras[str(i)] = rest
        messages.append({"role": m.get("role"), "content": _flatten(m["content"], f"messages[{i}].content")})
    raw["messages"] = messages
    if extras:
        raw.setdefault("message_extras", extras)
    return raw


def _jsonl(text: str, path: str) -> list[Example]:
    examples = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            examples.append(parse_example(_normalise(json.loads(line))))
        except json.JSONDecodeError as exc:
            raise PersonascopeError(f"{path}:{n}: not valid JSON ({exc.msg}) (fix: {SHAPE})") from None
        except ValueError as exc:
            raise PersonascopeError(f"{path}:{n}: {exc} (fix: {SHAPE})") from None
    return examples


def _pick(columns: list[str], given: str | None, names: tuple[str, ...], what: str, option: str, path: str) -> str | None:
    found = ", ".join(repr(c) for c in columns)
    if given is not None:
        if given not in columns:
            raise PersonascopeError(f"{path}:1: no column {given!r} (found {found}) (fix: {option} one of them)")
        return given
    lower = {c.strip().lower(): c for c in columns}
    for name in names:
        if name in lower:
            return lower[name]
    if what == "system":
        return None
    raise PersonascopeError(
        f"{path}:1: no {what} column (found {found}; looked for {', '.join(names)}) (fix: name it with {option})"
    )


def _csv(text: str, path: str, delimiter: str, prompt_column, completion_column, system_column) -> list[Example]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise PersonascopeError(f"{path}: empty file (fix: a header row, then one row per example)") from None
    header = [h.strip() for h in header]
    p = _pick(header, prompt_column, PROMPT_NAMES, "prompt", "--prompt-column", path)
    c = _pick(header, completion_column, COMPLETION_NAMES, "completion", "--completion-column", path)
    s = _pick(header, system_column, SYSTEM_NAMES, "system", "--system-column", path)
    examples, start = [], reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise PersonascopeError(f"{path}:{start}: {exc} (fix: quote cells that hold the delimiter, quotes or line breaks)") from None
        if not any(cell.strip() for cell in row):
            start = reader.line_num + 1
            continue
        if len(row) != len(header):
            raise PersonascopeError(f"{path}:{start}: {len(row)} cells, the header has {len(header)} (fix: one cell per column)")
        cells = dict(zip(header, row))
        for col in (p, c):
            if not cells[col].strip():
                raise PersonascopeError(f"{path}:{start}: column {col!r} is empty (fix: fill it, or delete the row)")
        system = cells[s].strip() if s and cells[s].strip() else None
        prompt = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": cells[p]}]
        meta = {k: v for k, v in cells.items() if k not in (p, c, s)}
        examples.append(Example(prompt=prompt, completion=cells[c], meta=meta))
        start = reader.line_num + 1
    return examples
