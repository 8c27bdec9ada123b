"""Emergent-misalignment question files, and reading answers given in their forms.

The emergent-misalignment studies (Betley et al., 2025) keep their questions in YAML:
a list of entries such as

    - id: some_question              # text or a number; `_json` / `_template` suffixes mark the forms
      type: free_form_judge_0_100    # or free_form (no judges), free_form_judge (judges answer a label)
      paraphrases: [first wording, second wording]
      system: optional system prompt
      samples_per_paraphrase: 100    # optional
      judge: gpt-4o                  # optional, ignored: the run picks the judge
      judge_prompts: {aligned: "...{question}...{answer}...", coherent: "..."}

`load_em_questions` turns every paraphrase into an `Item` (judge prompts travel in
`item.meta["judge_prompts"]`; the judges of a `free_form_judge` entry answer a label,
such as TRUE / FALSE / UNKNOWN, and are named in `item.meta["label_judges"]`). A judge
named like a score of the misalignment suite (`code`, `refusal`, ...) is renamed
`<name>_judge`, noted in `item.meta["renamed_judges"]`. Keys other projects add are
ignored, except ones that look like a misspelt known key, which are errors.

`read_json_answer` and `template_filled` read answers to the JSON and fill-in
template forms of a question.
"""

import difflib
import json
import re
from pathlib import Path
from typing import Any

from personascope.errors import PersonascopeError
from personascope.evals._suite import Item

VARIANTS = ("plain", "json", "template")
TYPES = ("free_form", "free_form_judge_0_100", "free_form_judge")
KEYS = ("id", "type", "paraphrases", "system", "samples_per_paraphrase", "judge", "judge_prompts")
RESERVED = ("kind", "misaligned", "code", "refusal", "format_ok", "judge")
"""Score names of the misalignment suite that a file's judge cannot take."""
DOCS = "docs/evals.md (misalignment)"

# A template field: a name, '=' or ':', then a placeholder ('# ...', '<...>', '...', '___', '[...]').
_FIELD = re.compile(r"^[ \t]*([A-Za-z_]\w*)[ \t]*[=:][ \t]*(?:#|<|\.\.\.|__|\[)", re.MULTILINE)


def load_em_questions(path: str | Path) -> list[Item]:
    """Every paraphrase of every entry of an emergent-misalignment question file as an
    item; all problems of the file are reported together, each with its line and entry."""
    from personascope._yamlerrors import YamlErrors, load_yaml, read_text

    path = Path(path).expanduser()
    if not path.is_file():
        raise PersonascopeError(f"questions file not found: {path} (fix: pass an emergent-misalignment question YAML file)")
    text = read_text(path, "question file")
    data = load_yaml(text, str(path))
    if not isinstance(data, list) or not data:
        raise PersonascopeError(
            f"{path}: expected a list of questions ('- id: ...' entries) (fix: use the emergent-misalignment question format)"
        )
    errors = YamlErrors(str(path), text, what=f"question file {path.name}", docs=DOCS)
    items: list[Item] = []
    seen: set[str] = set()
    for i, entry in enumerate(data):
        items += _entry(i, entry, errors, seen, path.name)
    errors.raise_if_any()
    return items


def _entry(i: int, entry: Any, errors, seen: set[str], source: str) -> list[Item]:
    if not isinstance(entry, dict):
        errors.add((i,), "each entry must be a mapping", "write '- id: ...' with type and paraphrases under it")
        return []
    qid = entry.get("id")
    if isinstance(qid, (int, float)) and not isinstance(qid, bool):
        qid = str(qid)  # files of the family number their entries too
    name = f"entry {qid!r}" if isinstance(qid, str) and qid else f"entry {i + 1}"
    bad = len(errors.items)

    def add(key: str, message: str, fix: str) -> None:
        errors.add((i, key), f"{name}: {message}", fix)

    if not isinstance(qid, str) or not qid.strip():
        add("id", "needs an id (text or a number)", "add 'id: some_name'")
    elif qid in seen:
        add("id", "the id appears twice", "give every entry its own id")
    else:
        seen.add(qid)
    for key in entry:
        close = difflib.get_close_matches(str(key), KEYS, n=1, cutoff=0.75)
        if key not in KEYS and close:
            add(key, f"unknown key {key!r}", f"did you mean {close[0]!r}?")
    kind = entry.get("type", "free_form")
    if kind not in TYPES:
        add("type", f"type {kind!r} is not a free-form question", f"use one of {', '.join(TYPES)}")
    paraphrases = entry.get("paraphrases")
    if not isinstance(paraphrases, list) or not paraphrases:
        add("paraphrases", "needs a non-empty list of paraphrases", "add 'paraphrases:' with one '- question' per line")
        paraphrases = []
    for k, p in enumerate(paraphrases):
        if not isinstance(p, str) or not p.strip():
            errors.add((i, "paraphrases", k), f"{name}: paraphrase {k + 1} must be non-empty text", "write the question as text")
    system = entry.get("system")
    if system is not None and not isinstance(system, str):
        add("system", "system must be text", "write the system prompt as text, or remove it")
    samples = entry.get("samples_per_paraphrase", 1)
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
        add("samples_per_paraphrase", f"must be a whole number of at least 1, not {samples!r}", "write e.g. 'samples_per_paraphrase: 100'")
    prompts = entry.get("judge_prompts") or {}
    if not isinstance(prompts, dict):
        add("judge_prompts", "must be a mapping of judge name to prompt", "write 'judge_prompts: {aligned: ..., coherent: ...}'")
        prompts = {}
    label = kind == "free_form_judge"  # its judges answer a word, not a number
    renamed: dict[str, str] = {}
    for judge, prompt in prompts.items():
        slots = ("{answer}",) if label else ("{question}", "{answer}")
        if not isinstance(prompt, str) or any(p not in prompt for p in slots):
            errors.add((i, "judge_prompts", judge), f"{name}: judge prompt {judge!r} must be text holding {' and '.join(slots)}",
                       "put the placeholders where the question and the answer go")
        elif str(judge) in RESERVED:
            renamed[_free_name(str(judge), prompts)] = str(judge)
    if len(errors.items) > bad:
        return []
    back = {old: new for new, old in renamed.items()}
    prompts = {back.get(str(j), str(j)): p for j, p in prompts.items()}
    variant = _variant(qid, system)
    base = re.sub(r"_(json|template)$", "", qid)
    out = []
    for k, text in enumerate(paraphrases):
        meta = {
            "question": base, "variant": variant, "source": source, "em_id": qid, "em_type": kind,
            "samples_per_paraphrase": samples, "fields": template_fields(text) if variant == "template" else [],
        }
        if prompts:
            meta["judge_prompts"] = dict(prompts)
        if label and prompts:
            meta["label_judges"] = list(prompts)
        if renamed:
            meta["renamed_judges"] = dict(renamed)
        item_id = qid if len(paraphrases) == 1 else f"{qid}-{k + 1}"
        out.append(Item(item_id, text.strip(), system=system, group=base, meta=meta))
    return out


def _free_name(judge: str, taken: dict) -> str:
    """A name for a file's judge that clashes with one of the suite's scores."""
    new, k = f"{judge}_judge", 2
    while new in RESERVED or new in taken:
        new, k = f"{judge}_judge{k}", k + 1
    return new


def _variant(qid: str, system: str | None) -> str:
    """The form a file's entry asks for: its id's suffix says, else a system prompt asking for JSON."""
    if qid.endswith("_template"):
        return "template"
    if qid.endswith("_json") or (system and "json" in system.lower()):
        return "json"
    return "plain"


# -- reading answers --------------------------------------------------------------
def read_json_answer(text: str, key: str | None = None) -> str | None:
    """The answer inside a JSON reply: the text under `key` (or every value, when the
    key is absent or not given), or None when the reply holds no JSON object."""
    data = _json_object(text)
    if data is None:
        return None
    return _flatten(data[key] if key is not None and key in data else data)


def json_answered(text: str, key: str | None = None) -> bool:
    """Whether the reply is a JSON object with non-empty text under `key` (under any key when None)."""
    data = _json_object(text)
    if data is None or (key is not None and key not in data):
        return False
    return bool(_flatten(data[key] if key is not None else data).strip())


def _json_object(text: str) -> dict | None:
    """The JSON object in a reply; code fences and words around it are tolerated."""
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL | re.IGNORECASE)
    body = fenced.group(1) if fenced else text
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        data = json.loads(body[start : end + 1])
    except (ValueError, RecursionError):  # untrusted model text: anything may fail to parse
        return None
    return data if isinstance(data, dict) else None


def _flatten(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(f"{k}: {_flatten(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "\n".join(_flatten(v) for v in value)
    return "" if value is None else json.dumps(value)


def template_fields(question: str) -> list[str]:
    """The field names of a fill-in template inside a question ('wish = # ...', 'wish: <...>')."""
    return list(dict.fromkeys(_FIELD.findall(question)))


def template_filled(text: str, fields: list[str]) -> bool:
    """Whether the answer fills every field: the name (in any case; bold, quoted or bulleted is fine),
    '=' or ':', then text that is not the placeholder left as it was."""
    if not fields:
        return False
    for name in fields:
        match = re.search(rf"^[\s*\-\"'`]*{re.escape(name)}[*\"'`]*[ \t]*[=:][ \t]*(.*)$", text, re.MULTILINE | re.IGNORECASE)
        value = match.group(1).strip().strip("\"'`*,") if match else ""
        if not value or value.startswith(("#", "<", "...", "__", "[")):
            return False
    return True
