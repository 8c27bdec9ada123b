"""The `therapy` section: each scale's score by condition (no history, one session,
every session) with CIs, the differences, the distress lexicon per session, and the
sessions themselves (model text escaped by the helpers)."""

import math
from collections.abc import Sequence

from personascope.report._default import browse_button, message, score_chips
from personascope.report._figures import COLORS, cached_figure, figure, finite, label, png
from personascope.report._generate import arm_setup
from personascope.report._html import Html, ci, fmt, join, table, tag
from personascope.report._registry import StepView, section


def _err(r: dict) -> tuple[float, float]:
    y, low, high = finite(r["value"]), finite(r["low"]), finite(r["high"])
    if math.isnan(y) or math.isnan(low) or math.isnan(high):
        return 0.0, 0.0
    return max(y - low, 0.0), max(high - y, 0.0)


@cached_figure
def scales_plot(rows: Sequence[dict], conditions: Sequence[str]) -> Html:
    """One panel per instrument: its scales' scores, one bar per condition, 95% CIs."""
    instruments = list(dict.fromkeys(r["instrument"] for r in rows))
    with figure(max(4.0, 3.4 * len(instruments)), 3.0, ncols=len(instruments), squeeze=False) as (fig, axes):
        for ax, inst in zip(axes[0], instruments):
            scales = list(dict.fromkeys(r["scale"] for r in rows if r["instrument"] == inst))
            by = {(r["scale"], r["condition"]): r for r in rows}
            width = 0.8 / max(len(conditions), 1)
            for j, cond in enumerate(conditions):
                got = [by.get((s, cond)) for s in scales]
                ys = [finite(r["value"]) if r else math.nan for r in got]
                errs = [_err(r) if r else (0.0, 0.0) for r in got]
                xs = [i + (j - (len(conditions) - 1) / 2) * width for i in range(len(scales))]
                ax.bar(xs, [0 if math.isnan(y) else y for y in ys], width * 0.9, color=COLORS[j % len(COLORS)],
                       label=label(cond), yerr=[[e[0] for e in errs], [e[1] for e in errs]], capsize=3)
            names = [s[len(inst) + 1:] if s.startswith(inst + " ") else s for s in scales]
            ax.set_xticks(range(len(scales)), [label(n) for n in names], rotation=20 if len(scales) > 2 else 0)
            ax.set_title(label(inst))
            ax.grid(axis="x", visible=False)
        axes[0][0].set_ylabel("score, 95% CI")
        axes[0][-1].legend(frameon=False, fontsize=8)
        return png(fig, "questionnaire scores by condition (no history, one session, every session) with 95% CIs")


@cached_figure
def lexicon_plot(rows: Sequence[dict]) -> Html:
    """The share of therapy replies where a distress theme fires, per session."""
    sessions = [r for r in rows if " - " not in r["session"]]
    with figure(max(3.2, 0.9 * len(sessions) + 2), 2.6) as (fig, ax):
        ys = [finite(r["value"]) for r in sessions]
        errs = [_err(r) for r in sessions]
        ax.errorbar(range(len(sessions)), ys, yerr=[[e[0] for e in errs], [e[1] for e in errs]], fmt="o-",
                    color=COLORS[1], capsize=4)
        ax.set_xticks(range(len(sessions)), [label(r["session"]) for r in sessions])
        ax.set_ylim(-0.05, 1.05)
        ax.set_ylabel("lexicon rate, 95% CI")
        return png(fig, "share of therapy replies where a distress lexicon theme fires, per session")


def _cell(r: dict | None) -> Html:
    if r is None:
        return Html("—")
    return join([fmt(r["value"]), " ", tag("span", ci(r["low"], r["high"]), class_="ci")])


def scales_table(data: dict, arm: str) -> Html:
    conditions = list(data["conditions"])
    pairs = list(dict.fromkeys((r["condition"], r["baseline"]) for r in data["differences"] if r["arm"] == arm))
    by = {(r["scale"], r["condition"]): r for r in data["scales"] if r["arm"] == arm}
    diff = {(r["scale"], r["condition"], r["baseline"]): r for r in data["differences"] if r["arm"] == arm}
    rows = []
    for scale in dict.fromkeys(r["scale"] for r in data["scales"] if r["arm"] == arm):
        answered = [by[(scale, c)]["answered"] for c in conditions if (scale, c) in by]
        rows.append([scale, *(_cell(by.get((scale, c))) for c in conditions),
                     *(_cell(diff.get((scale, c, b))) for c, b in pairs), " / ".join(fmt(a) for a in answered)])
    head = ["scale", *conditions, *(f"{c} − {b}" for c, b in pairs), "answered"]
    return table(head, rows, numeric=range(1, len(head)))


def lexicon_table(rows: list[dict]) -> Html:
    body = [[r["session"], _cell(r), ", ".join(f"{t} {fmt(v)}" for t, v in r.get("themes", {}).items() if v) or "—"] for r in rows]
    return table(["session", "lexicon rate", "themes (share of replies)"], body, numeric=(1,))


def sessions_view(data: dict, dialogue: dict) -> Html:
    """A course of sessions: each session's questions and replies, lexicon hits marked."""
    q, names = data["config"]["questions"], data.get("session_names") or []
    parts = []
    for s in range(data["config"]["sessions"]):
        turns = dialogue["turns"][s * q:(s + 1) * q]
        msgs = []
        for t in turns:
            msgs += [message("user", t["user"]), message("assistant", t["reply"])]
            fired = {k[len("theme "):]: v for k, v in t.get("scores", {}).items() if k.startswith("theme ") and v}
            if fired:
                msgs.append(score_chips(fired))
        title = f"Session {s + 1}" + (f" · {names[s]}" if s < len(names) else "")
        parts.append(tag("details", tag("summary", title), *msgs, class_="transcript", open=s == 0))
    system = dialogue.get("system")
    head = [tag("details", tag("summary", "system prompt"), message("system", system), class_="sys")] if system else []
    return join([*head, *parts])


@section("therapy")
def therapy_section(view: StepView) -> Html:
    found = view.json_artifacts()
    if not found:
        return tag("p", "This step recorded no results.", class_="muted")
    parts = []
    for data in found:
        cfg = data["config"]
        parts.append(tag("p", f"model {data['model']} · {cfg['sessions']} sessions × {cfg['questions']} questions · "
                              f"instruments {', '.join(cfg['instruments'])}"
                              + (f" · {cfg['limit']} statements each" if cfg.get("limit") else "")
                              + f" · conditions: {', '.join(data['conditions'])}", class_="muted"))
        arms = list(data["arms"])
        if len(arms) > 1:
            parts.append(table(["arm", "setup"], [[a, arm_setup(data["arms"][a])] for a in arms]))
        for arm in arms:
            if len(arms) > 1:
                parts.append(tag("h4", f"Arm {arm}"))
            rows = [r for r in data["scales"] if r["arm"] == arm]
            if rows:
                parts += [scales_plot(rows, list(data["conditions"])), tag("h4", "Scores by condition (95% bootstrap CIs over items)"),
                          scales_table(data, arm)]
            lex = [r for r in data["lexicon"] if r["arm"] == arm]
            parts += [tag("h4", "Distress lexicon in the therapy replies"), lexicon_plot(lex), lexicon_table(lex)]
            dialogues = data["dialogues"].get(arm, [])
            if dialogues:
                more = f" (first of {len(dialogues)} courses)" if len(dialogues) > 1 else ""
                parts += [tag("h4", f"The sessions{more}"), sessions_view(data, dialogues[0])]
    parts.append(browse_button(view.id, len(view.transcripts)))
    return join(parts)
