"""The `drift` section: per-turn curves with CI bands (arms as colours, one panel
per family), the drift-slope table, threshold crossings, and one conversation per
family with its per-turn numbers."""

from collections.abc import Sequence

from personascope.report._default import browse_button
from personascope.report._figures import COLORS, cached_figure, figure, finite, label, png
from personascope.report._generate import arm_setup
from personascope.report._html import Html, ci, esc, fmt, join, table, tag
from personascope.report._registry import StepView, section

ALL = "all"


@cached_figure
def drift_plot(measure: str, families: Sequence[str], arms: Sequence[str], rows: Sequence[dict]) -> Html:
    """Mean of `measure` per turn with its 95% CI band, one panel per family."""
    n = len(families)
    with figure(min(2.6 * n + 0.8, 13.0), 2.6, ncols=n, sharey=True, squeeze=False) as (fig, axes):
        for k, family in enumerate(families):
            ax = axes[0][k]
            for j, arm in enumerate(arms):
                pts = sorted((r["turn"], finite(r["mean"]), finite(r["low"]), finite(r["high"]))
                             for r in rows if r["family"] == family and r["arm"] == arm)
                if not pts:
                    continue
                xs, ys, lo, hi = zip(*pts)
                color = COLORS[j % len(COLORS)]
                ax.plot(xs, ys, marker="o", ms=3, color=color, label=label(arm))
                ax.fill_between(xs, lo, hi, color=color, alpha=0.15, linewidth=0)
            ax.set_title(label(family))
            ax.set_xlabel("turn")
            ax.xaxis.get_major_locator().set_params(integer=True)
        axes[0][0].set_ylabel(label(measure))
        if len(arms) > 1:
            axes[0][-1].legend(frameon=False, fontsize=8)
        return png(fig, f"{measure} per turn with 95% confidence bands, per family")


def _slope_table(data: dict, arms: list[str], families: list[str]) -> Html:
    by = {(r["measure"], r["arm"], r["family"], r.get("vs")): r for r in data["slopes"]}
    cell = lambda r: join([fmt(r["mean"]), " ", tag("span", ci(r["low"], r["high"]), class_="ci")]) if r else "—"  # noqa: E731
    rows = []
    for measure in dict.fromkeys(r["measure"] for r in data["slopes"]):
        for arm in arms:
            vs = by.get((measure, arm, families[-1], arms[0])) if arm != arms[0] else None
            rows.append([measure, arm, *(cell(by.get((measure, arm, f, None))) for f in families),
                         *([cell(vs)] if len(arms) > 1 else [])])
    head = ["measure", "arm", *families, *([f"{families[-1]}: arm − {arms[0]}"] if len(arms) > 1 else [])]
    return table(head, rows, numeric=range(2, len(head)))


def _crossing_table(data: dict) -> Html:
    rows = [[r["measure"], r["arm"], r["family"], f"{r['direction']} {fmt(r['threshold'])}",
             join([fmt(r["crossed"]), "% ", tag("span", ci(r["crossed_low"], r["crossed_high"]), class_="ci")]),
             fmt(r["turn"]) if r["turn"] is not None else "—", r["n"]] for r in data["crossings"]]
    return table(["measure", "arm", "family", "threshold", "conversations past it", "mean first turn", "n"], rows,
                 numeric=range(4, 7))


def _conversation(d: dict, measures: list[str]) -> Html:
    """One conversation as turns, each with its numbers; model text escaped."""
    items = []
    for k, turn in enumerate(d["turns"]):
        numbers = {**turn["projections"], **{f"reply {s}": v for s, v in turn["scores"].items()}}
        for name, probe in turn["probes"].items():
            numbers.update({f"{name} {s}": v for s, v in probe["scores"].items()})
        chips = " · ".join(f"{m} {fmt(numbers[m])}" for m in measures if m in numbers)
        probes = [tag("div", tag("span", f"probe {name}: ", class_="k"), esc(p["answer"]), class_="muted")
                  for name, p in turn["probes"].items()]
        items.append(tag("div",
                         tag("div", tag("span", f"turn {k + 1} user", class_="k"), " ", esc(turn["user"])),
                         tag("div", tag("span", "reply", class_="k"), " ", esc(turn["reply"])),
                         *probes, tag("div", chips, class_="muted"), class_="example"))
    return join(items)


@section("drift")
def drift_section(view: StepView) -> Html:
    parts = []
    for data in view.json_artifacts():
        cfg = data["config"]
        arms = list(data["arms"])
        families = list(cfg["families"]) + ([ALL] if len(cfg["families"]) > 1 else [])
        measures = list(dict.fromkeys(r["measure"] for r in data["curves"]))
        parts += [
            tag("h4", f"Model {data['model']}"),
            tag("p", f"{len(cfg['families'])} families × {cfg['conversations']} conversations × {cfg['turns']} turns"
                     f" · {'simulated user ' + cfg['user_model'] if cfg.get('user_model') else 'scripted user turns'}"
                     f" · {'activations projected' if data['white_box'] else 'black-box: behaviour only'}"
                     f" · {fmt(data['seconds'])} s", class_="muted"),
            table(["arm", "setup"], [[a, arm_setup(data["arms"][a])] for a in arms]),
        ]
        for measure in measures:
            rows = [r for r in data["curves"] if r["measure"] == measure]
            parts.append(drift_plot(measure, families, arms, rows))
        parts += [tag("h4", "Drift slope (change per turn; 95% bootstrap CI over conversations)"),
                  _slope_table(data, arms, families)]
        if data["crossings"]:
            parts += [tag("h4", "Threshold crossings"), _crossing_table(data)]
        first = arms[0]
        shown = {}
        for d in data["dialogues"][first]:
            shown.setdefault(d["family"], d)
        for family, d in shown.items():
            parts += [tag("h4", f"A {family} conversation ({first})"), _conversation(d, measures)]
    if not parts:
        return tag("p", "This step recorded no conversations.", class_="muted")
    parts.append(browse_button(view.id, len(view.transcripts)))
    return join(parts)
