"""Pieces every section uses, and the section for step types without their own."""

import json
from collections.abc import Sequence
from typing import Any

from personascope.report._html import Html, ci, fmt, join, table, tag
from personascope.report._registry import StepView
from personascope.store import Metric, Transcript

EXAMPLES = 3
"""Transcripts a section shows inline; the browser at the end has all of them."""


def text_of(content: Any) -> str:
    """Message content as text (structured content, e.g. image parts, as JSON)."""
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)


def metrics_table(metrics: Sequence[Metric], *, step: bool = False) -> Html:
    """Metrics as rows (metric, model, arm, value, CI, n); empty model/arm columns are left out."""
    if not metrics:
        return tag("p", "No metrics.", class_="muted")
    cols = [("step", lambda m: m.step)] if step else []
    cols += [(c, lambda m, c=c: getattr(m, c)) for c in ("model", "arm") if any(getattr(m, c) for m in metrics)]
    head = ["metric", *(c for c, _ in cols), "value", "95% CI", "n"]
    rows = [[m.name, *(get(m) for _, get in cols), fmt(m.value), ci(m.ci_low, m.ci_high), fmt(m.n)] for m in metrics]
    k = len(cols) + 1
    return table(head, rows, numeric=(k, k + 1, k + 2))


def score_chips(scores: dict[str, Any]) -> Html:
    return join(tag("span", tag("span", k, class_="k"), " ", fmt(v), class_="chip") for k, v in scores.items())


def message(role: str, content: Any) -> Html:
    return tag("div", tag("div", role, class_="role"), tag("div", text_of(content), class_="text"), class_=f"msg {role}")


def conversation(t: Transcript) -> Html:
    """A transcript in full: system prompts folded away, user and model turns shown."""
    msgs = []
    for m in t.messages:
        role = str(m.get("role", "?"))
        if role == "system":
            msgs.append(tag("details", tag("summary", "system prompt"), message(role, m.get("content", "")), class_="sys"))
        else:
            msgs.append(message(role, m.get("content", "")))
    where = " · ".join(x for x in (t.model, t.arm, t.sample) if x)
    return tag("div", tag("div", where, class_="meta"), *msgs, score_chips(t.scores), class_="transcript")


def prompt_of(t: Transcript) -> str:
    """The last user turn: what a response answered."""
    users = [m for m in t.messages if m.get("role") == "user"]
    return text_of(users[-1].get("content", "")) if users else t.sample


def response(t: Transcript, label: str, *, kind: str = "") -> Html:
    """One model response as a card (label, text, scores), for side-by-side grids."""
    return tag(
        "div", tag("div", label, class_="label"), tag("div", t.output, class_="text"), score_chips(t.scores),
        class_=f"response {kind}".strip(),
    )


def browse_button(step_id: str, count: int) -> Html:
    """Jump to the transcripts browser, filtered to this step (wired up by the page script)."""
    if not count:
        return Html("")
    text = "Browse the transcript of this step ↓" if count == 1 else f"Browse all {count} transcripts of this step ↓"
    return tag("p", tag("button", text, type="button", class_="browse", data_step=step_id))


def artifacts_list(view: StepView) -> Html:
    if not view.artifacts:
        return Html("")
    items = [tag("li", tag("code", a.path), f" ({a.kind})", class_="artifact") for a in view.artifacts]
    return tag("div", tag("h4", "Artifacts"), tag("ul", *items))


def default_section(view: StepView) -> Html:
    """Metrics, artifacts and a few transcripts: enough for any step type."""
    examples = [conversation(t) for t in view.transcripts[:EXAMPLES]]
    return join([
        tag("h4", "Metrics"), metrics_table(view.metrics), artifacts_list(view),
        tag("h4", "Example transcripts") if examples else "", *examples,
        browse_button(view.id, len(view.transcripts)),
    ])
