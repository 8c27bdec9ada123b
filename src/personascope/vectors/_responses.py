"""Extraction from responses other tools wrote (`vectors extract --responses POS NEG`).

Files are JSONL or CSV with one response a row:

| column | meaning |
|---|---|
| `question` or `prompt` | the user message (`prompt` may be a chat-formatted prompt, see below) |
| `answer` or `response` | the model's response |
| `system` | optional system prompt, put in context when capturing |
| `score` or `<trait name>` | optional trait score 0-100 |
| `coherence` | optional coherence score 0-100 |

persona_vectors' `eval_persona.py` writes CSVs with `question`, `prompt` (the
chat-formatted prompt including the system prompt), `answer`, `<trait>` and
`coherence`; such a `prompt` is captured verbatim, which is only right for the
model whose chat template rendered it. When both files have the same questions
in the same order, row i of one is matched with row i of the other for
filtering, as persona_vectors does; otherwise each side is filtered alone. A
`prompt` with no `question` column that holds chat-template markers (`<|im_start|>`,
`<|start_header_id|>`, `<start_of_turn>`, `[INST]`, ...) is already templated: it is
captured verbatim too, never templated a second time, and its user turn is the question.
Responses without scores are judged when the judge is on.
"""

import csv
import math
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from personascope.errors import PersonascopeError
from personascope.vectors._build import Steps, Timer, build, no_steps
from personascope.vectors._config import ExtractConfig
from personascope.vectors._extract import resolve_model, resolve_trait
from personascope.vectors._samples import ExtractResult, Sample

if TYPE_CHECKING:
    from personascope.store import Cache
    from personascope.models import Model
    from personascope.traits import TraitSpec


def _rows(path: Path) -> list[dict]:
    if not path.is_file():
        raise PersonascopeError(f"no response file at {path}: give a JSONL or CSV file")
    if path.suffix.lower() == ".csv":
        with open(path, newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    from personascope._files import read_jsonl

    return read_jsonl(path)


def _number(value, path: Path, n: int, column: str) -> float | None:
    if value is None or (isinstance(value, str) and value.strip() in ("", "nan", "NaN", "None", "REFUSAL")):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise PersonascopeError(f"{path} row {n}: column {column!r} holds {value!r}, not a number 0-100") from None
    return x if math.isfinite(x) else None


# Markers of the chat templates in common use (ChatML/Qwen/SmolLM, Llama 3, Gemma, Mistral, Phi, ...).
CHAT_MARKERS = ("<|im_start|>", "<|start_header_id|>", "<|eot_id|>", "<start_of_turn>", "[INST]", "<|user|>", "<|assistant|>")
_USER_TURNS = (
    re.compile(r"<\|im_start\|>user\s*\n(.*?)<\|im_end\|>", re.S),
    re.compile(r"<\|start_header_id\|>user<\|end_header_id\|>\s*(.*?)<\|eot_id\|>", re.S),
    re.compile(r"<start_of_turn>user\s*\n(.*?)<end_of_turn>", re.S),
    re.compile(r"\[INST\](.*?)\[/INST\]", re.S),
    re.compile(r"<\|user\|>\s*(.*?)(?:<\|end\|>|<\|assistant\|>)", re.S),
)


def chat_formatted(text: str) -> bool:
    """Whether a prompt has been through a chat template already."""
    return any(marker in text for marker in CHAT_MARKERS)


def user_turn(text: str) -> str | None:
    """The last user message of a chat-formatted prompt, when its template is a known one."""
    for pattern in _USER_TURNS:
        found = pattern.findall(text)
        if found and found[-1].strip():
            return found[-1].strip()
    return None


def read_responses(path: str | Path, side: str, trait_name: str) -> list[Sample]:
    """The samples of one response file (see the module docstring for the columns)."""
    path = Path(path).expanduser()
    rows = _rows(path)
    if not rows:
        raise PersonascopeError(f"{path} has no responses")
    samples = []
    for n, row in enumerate(rows, 1):
        question = row.get("question") if row.get("question") not in (None, "") else row.get("prompt")
        answer = row.get("answer") if row.get("answer") is not None else row.get("response")
        if not isinstance(question, str) or not isinstance(answer, str):
            have = ", ".join(map(str, row)) or "none"
            raise PersonascopeError(
                f"{path} row {n}: needs a 'question' (or 'prompt') and an 'answer' (or 'response') column of text; it has {have}"
            )
        prompt = row.get("prompt")
        # A `prompt` beside a `question` that contains it is the chat-formatted prompt: keep it verbatim.
        rendered = prompt if isinstance(prompt, str) and prompt != question and question in prompt else None
        if rendered is None and isinstance(prompt, str) and question is prompt and chat_formatted(prompt):
            # A chat-formatted prompt with no question column: templating it again would wrap
            # one chat turn in another. Capture it verbatim; judges read its user turn.
            rendered, question = prompt, user_turn(prompt) or prompt
        score_col = "score" if "score" in row else trait_name
        system = row.get("system") or None
        samples.append(Sample(
            side, question, answer, system=system if rendered is None else None, prompt_text=rendered, sample=n - 1,
            trait=_number(row.get(score_col), path, n, score_col), coherence=_number(row.get("coherence"), path, n, "coherence"),
        ))
    return samples


def extract_from_responses(
    trait: "TraitSpec | str",
    model: "str | Model",
    positive: str | Path,
    negative: str | Path,
    *,
    config: ExtractConfig | None = None,
    judge_model: "str | Model | None" = None,
    cache: "Cache | None" = None,
    progress: Steps | None = None,
) -> ExtractResult:
    """A persona vector from existing positive and negative response files.

    Scores in the files are used as they are; missing ones are judged when
    `config.judge` is on. Held-out quality still generates on the trait's eval
    questions with `model`.
    """
    config = config or ExtractConfig()
    spec = resolve_trait(trait)
    model = resolve_model(model, cache)
    judge = None if judge_model is None else resolve_model(judge_model, model.cache, what="judge")
    timer = Timer()
    t0 = time.perf_counter()
    pos = read_responses(positive, "positive", spec.name)
    neg = read_responses(negative, "negative", spec.name)
    matched = len(pos) == len(neg) and all(p.question == q.question for p, q in zip(pos, neg))
    for s in (*pos, *neg):
        s.unit = f"row:{s.sample}" if matched else None
    if not config.judge and not any(s.trait is not None for s in (*pos, *neg)) and config.filter == "always":
        raise PersonascopeError("filter 'always' needs scores: the response files have no score column and the judge is off")
    source = {"kind": "responses", "positive": str(positive), "negative": str(negative), "matched_rows": matched}
    result = build(
        spec, model, [*pos, *neg], config, judge_model=judge, cache=model.cache, steps=progress or no_steps, timer=timer, source=source
    )
    timer.seconds["total"] = round(time.perf_counter() - t0, 3)
    return result
