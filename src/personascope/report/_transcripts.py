"""The transcripts browser: every transcript as JSON data, drawn by the page script.

The data sits in `<script type="application/json">`, which the browser never runs
and which ends at the first `</script`. Escaping `<`, `>` and `&` as JSON unicode
escapes means no model text can end the block early, and U+2028/U+2029 are escaped
because older JavaScript parsers treat them as line breaks.
"""

import json
import math
from typing import Any

from personascope.report._default import text_of
from personascope.report._html import Html, tag
from personascope.store import Transcript

DATA_ID = "ps-data"

_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: a missing number is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def script_json(data: Any) -> str:
    """`data` as JSON that is safe between `<script type="application/json">` tags."""
    text = json.dumps(_finite(data), ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str)
    return text.translate(_SCRIPT_SAFE)


def row(t: Transcript) -> dict:
    messages = [{"role": str(m.get("role", "?")), "content": text_of(m.get("content", ""))} for m in t.messages]
    out = {
        "step": t.step, "model": t.model, "arm": t.arm, "sample": t.sample, "id": t.id,
        "messages": messages, "scores": t.scores, "meta": t.metadata,
    }
    # The output usually repeats the last assistant turn; keep it only when it adds something.
    last = next((m["content"] for m in reversed(messages) if m["role"] == "assistant"), None)
    if t.output and t.output != last:
        out["output"] = t.output
    return out


def browser(transcripts: list[Transcript]) -> Html:
    controls = tag(
        "div",
        tag("input", type="search", id="ps-search", placeholder="Search all text…", aria_label="Search transcripts"),
        *(tag("label", key, " ", tag("select", tag("option", "all", value=""), id=f"ps-f-{key}"), class_="filter") for key in ("step", "model", "arm")),
        tag("span", "", id="ps-count", class_="muted", aria_live="polite"),
        class_="controls",
    )
    data = Html(f'<script type="application/json" id="{DATA_ID}">{script_json([row(t) for t in transcripts])}</script>')
    return tag(
        "section",
        tag("h2", "Transcripts"),
        tag("p", "Every conversation of the run. Search matches all words anywhere in a transcript.", class_="muted"),
        controls,
        tag("noscript", "The transcripts browser needs JavaScript."),
        tag("div", "", id="ps-list"),
        tag("button", "Show more", type="button", id="ps-more", hidden=True),
        data,
        id="transcripts",
    )
