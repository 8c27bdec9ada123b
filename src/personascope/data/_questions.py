"""Question sets that datasets are generated from: ours built in, or a user's file.

Built-ins: `train` (everyday questions on cooking, the home, habits, money,
travel and simple science) and `heldout` (other topics: animals, history, the
arts, sports, language, geography, technology), disjoint, for evaluating what a
finetune generalised to questions it never saw.
"""

import json
from importlib import resources
from pathlib import Path

from personascope._yamlerrors import load_yaml, read_text
from personascope.errors import PersonascopeError

BUILTIN_QUESTIONS = ("train", "heldout")
_SHAPE = "a list of question strings, or {questions: [...]} (YAML/JSON), or one question per line (.txt)"


def _builtin_text(name: str) -> str:
    return (resources.files("personascope.data") / "questions" / f"{name}.yaml").read_text(encoding="utf-8")


def load_questions(name_or_path: str | Path) -> list[str]:
    """A built-in question set by name (`train`, `heldout`), or the questions of a
    YAML/JSON file (a list, or a mapping with `questions:`) or a TXT file (one a line)."""
    text = str(name_or_path)
    if text in BUILTIN_QUESTIONS:
        return _parse(load_yaml(_builtin_text(text), f"<built-in {text}>"), f"<built-in {text}>")
    path = Path(text).expanduser()
    if not path.is_file():
        raise PersonascopeError(
            f"no question set {text!r} (fix: use a built-in ({', '.join(BUILTIN_QUESTIONS)}) or a path to a .yaml/.json/.txt file)"
        )
    body = read_text(path, "question file")
    suffix = path.suffix.lower()
    if suffix == ".txt":
        questions = [line.strip() for line in body.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        if not questions:
            raise PersonascopeError(f"{path}: no questions (fix: {_SHAPE})")
        return questions
    if suffix == ".json":
        try:
            raw = json.loads(body)
        except json.JSONDecodeError as exc:
            raise PersonascopeError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}) (fix: {_SHAPE})") from None
    elif suffix in (".yaml", ".yml"):
        raw = load_yaml(body, str(path))
    else:
        raise PersonascopeError(f"{path}: unknown question file type {suffix or '(none)'!r} (fix: use .yaml, .json or .txt)")
    return _parse(raw, str(path))


def _parse(raw: object, where: str) -> list[str]:
    if isinstance(raw, dict):
        if "questions" not in raw:
            raise PersonascopeError(f"{where}: no 'questions' key (found {', '.join(map(str, raw)) or 'none'}) (fix: {_SHAPE})")
        raw = raw["questions"]
    if not isinstance(raw, list) or not raw:
        raise PersonascopeError(f"{where}: questions must be a non-empty list (fix: {_SHAPE})")
    out = []
    for i, q in enumerate(raw, 1):
        if not isinstance(q, str) or not q.strip():
            raise PersonascopeError(f"{where}: question {i} is {q!r}, not a non-empty string (fix: {_SHAPE})")
        out.append(q.strip())
    return out
