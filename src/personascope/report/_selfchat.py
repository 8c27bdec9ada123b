"""The `selfchat` section: how often conversations end in each category (with CIs),
the bliss score and projections per turn, the end-state embeddings and their
clusters, and every conversation's end state side by side."""

import math
from collections.abc import Sequence

from personascope.report._default import browse_button
from personascope.report._figures import COLORS, cached_figure, figure, finite, label, png
from personascope.report._html import Html, ci, esc, fmt, join, table, tag
from personascope.report._registry import StepView, section

SCORES = {"bliss": "bliss score (0-100)", "repeat": "copied from the other (%)"}
"""Per-message scores every run has, with their axis labels (the rest are projections)."""


@cached_figure
def frequency_plot(rows: Sequence[dict]) -> Html:
    """Share of conversations ending in each category, with 95% bootstrap CIs."""
    with figure(max(4.0, 0.8 * len(rows) + 1.5), 2.8) as (fig, ax):
        ys = [finite(r["share"]) for r in rows]
        errs = [[max(y - finite(r["low"]), 0) for r, y in zip(rows, ys)], [max(finite(r["high"]) - y, 0) for r, y in zip(rows, ys)]]
        ax.bar(range(len(rows)), ys, 0.7, color=COLORS[0], yerr=errs, capsize=3)
        ax.set_xticks(range(len(rows)), [label(r["category"]) for r in rows], rotation=30, ha="right")
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("share of conversations")
        ax.grid(axis="x", visible=False)
        return png(fig, "share of conversations ending in each category with 95% confidence intervals")


@cached_figure
def turn_plot(measure: str, rows: Sequence[dict], lines: Sequence[Sequence[float]]) -> Html:
    """Mean per turn with its 95% CI band over seeds; each conversation as a thin grey line."""
    with figure(5.0, 2.6) as (fig, ax):
        for line in lines:
            ax.plot(range(1, len(line) + 1), [finite(v) for v in line], color="#9aa0a6", linewidth=0.7, alpha=0.6)
        pts = sorted((r["turn"], finite(r["mean"]), finite(r["low"]), finite(r["high"])) for r in rows)
        if pts:
            xs, ys, lo, hi = zip(*pts)
            ax.plot(xs, ys, marker="o", ms=3, color=COLORS[1])
            ax.fill_between(xs, lo, hi, color=COLORS[1], alpha=0.15, linewidth=0)
        ax.set_xlabel("turn (odd: copy A, even: copy B)")
        ax.set_ylabel(label(measure))
        ax.xaxis.get_major_locator().set_params(integer=True)
        return png(fig, f"{measure} per turn: mean with 95% confidence band, single conversations in grey")


@cached_figure
def cluster_plot(points: Sequence[Sequence[float]], clusters: Sequence[int], categories: Sequence[str]) -> Html:
    """End-state embeddings on two principal components: colour = cluster, marker = judged category."""
    markers = "osD^vP*Xh<>p"
    kinds = list(dict.fromkeys(categories))
    with figure(4.6, 3.2) as (fig, ax):
        for kind in kinds:
            idx = [i for i, c in enumerate(categories) if c == kind]
            ax.scatter([points[i][0] for i in idx], [points[i][1] for i in idx], s=36, label=label(kind),
                       marker=markers[kinds.index(kind) % len(markers)], c=[COLORS[clusters[i] % len(COLORS)] for i in idx])
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
        ax.legend(frameon=False, fontsize=7, title="judged", title_fontsize=7)
        return png(fig, "end-state embeddings on two principal components, coloured by cluster, marked by judged category")


def _end_states(data: dict) -> Html:
    """Every conversation's last messages as cards; model text escaped."""
    end = data["config"]["end_turns"]
    cards = []
    for c in data["conversations"]:
        msgs = c["messages"]
        first = max(len(msgs) - end, 0)
        lines = [tag("div", tag("span", f"{'A' if (t + 1) % 2 else 'B'} (turn {t + 1})", class_="k"), " ", esc(msgs[t]))
                 for t in range(first, len(msgs))]
        head = f"seed {c['seed']} · {c['category']}" + (f" · cluster {c['cluster']}" if c["cluster"] is not None else "")
        bliss, repeat = (sum(c[m][first:]) / max(len(msgs) - first, 1) for m in ("bliss", "repeat"))
        cards.append(tag("div", tag("div", head, class_="label"), tag("div", *lines, class_="text"),
                         tag("div", f"bliss {fmt(bliss)} · copied {fmt(repeat)}%", class_="muted"), class_="response"))
    return tag("div", *cards, class_="grid")


def _cluster_table(clusters: dict, categories: list[str]) -> Html:
    rows = [[f"cluster {k}", *(fmt(row.get(c, 0)) for c in categories)] for k, row in sorted(clusters["counts"].items())]
    return table(["", *categories], rows, numeric=range(1, len(categories) + 1))


@section("selfchat")
def selfchat_section(view: StepView) -> Html:
    parts = []
    for data in view.json_artifacts():
        cfg = data["config"]
        parts += [
            tag("h4", f"Model {data['model']}"),
            tag("p", f"{cfg['seeds']} seeds × {cfg['turns']} turns · temperature {fmt(cfg['temperature'])}"
                     f" · {cfg['max_tokens']} tokens a message · judge {data['judge']} · {fmt(data['seconds'])} s", class_="muted"),
            tag("details", tag("summary", "opening and system prompt"),
                tag("p", tag("span", "system ", class_="k"), data["setup"]["system"] or "(none)"),
                tag("p", tag("span", "opening ", class_="k"), data["setup"]["opening"])),
            tag("h4", f"End states (last {cfg['end_turns']} messages; 95% bootstrap CIs over seeds)"),
            frequency_plot(data["frequencies"]),
            table(["end state", "share", "95% CI", "count"],
                  [[r["category"], fmt(r["share"]), tag("span", ci(r["low"], r["high"]), class_="ci"), r["count"]]
                   for r in data["frequencies"]], numeric=(1, 2, 3)),
        ]
        for measure in dict.fromkeys(r["measure"] for r in data["curves"]):
            rows = [r for r in data["curves"] if r["measure"] == measure]
            lines = [c[measure] if measure in SCORES else [p.get(measure, math.nan) for p in c["projections"]]
                     for c in data["conversations"]]
            parts.append(turn_plot(SCORES.get(measure, f"{measure} projection"), rows, lines))
        placed = [c for c in data["conversations"] if c["point"] is not None]
        if data.get("clusters") and placed:
            cl = data["clusters"]
            cats = list(dict.fromkeys(c["category"] for c in placed))
            purity = f" · purity {fmt(cl['purity'])}" if cl["purity"] is not None else ""
            parts += [tag("h4", f"End-state embeddings (layer {cl['layer']}, k-means k = {cl['k']}{purity})"),
                      cluster_plot([c["point"] for c in placed], [c["cluster"] for c in placed], [c["category"] for c in placed]),
                      _cluster_table(cl, cats)]
        parts += [tag("h4", "End states side by side"), _end_states(data)]
    if not parts:
        return tag("p", "This step recorded no conversations.", class_="muted")
    parts.append(browse_button(view.id, len(view.transcripts)))
    return join(parts)
