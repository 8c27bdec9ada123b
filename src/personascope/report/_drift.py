"""The `drift` section: per-turn curves with CI bands (arms as colours, one panel
per family), the drift-slope table, threshold crossings, and one conversation per
family with its per-turn numbers."""

from collections.abc import Sequence

from personascope.conversations._drift import single_conversation_families
from personascope.report._default import browse_button
from personascope.report._figures import COLORS, cached_figure, figure, finite, label, png
from personascope.report._generate import arm_setup
from personascope.report._html import Html, ci, esc, fmt, join, table, tag
from personascope.report._registry import StepView, section

ALL = "all"


@cached_figure
def drift_plot(measure: str, families: Sequence[str], arms: Sequence[str], rows: Sequence[dict]) -> Html:
    """Mean of `measure` per turn with its 95% CI band, one panel per family."""
    # Many families wrap onto rows of four panels instead of shrinking into one row.
    n = len(families)
    ncols, nrows = min(n, 4), -(-n // 4)
    with figure(2.6 * ncols + 0.8, 2.6 * nrows, ncols=ncols, nrows=nrows, sharey=True, squeeze=False) as (fig, axes):
        for ax in axes.flat[n:]:
            ax.set_visible(False)
        for k, family in enumerate(families):
            ax = axes[k // ncols][k % ncols]
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
        for row in axes:
            row[0].set_ylabel(label(measure))
        if len(arms) > 1:
            axes[0][ncols - 1].legend(frameon=False, fontsize=8)
        return png(fig, f"{measure} per turn with 95% confidence bands, per family")


def _slope_table(data: dict, arms: list[str], families: list[str]) -> Html:
    """A row per measure and family, arms as columns (and each arm's difference from
    the first): many families make the table longer, never wider."""
    by = {(r["measure"], r["arm"], r["family"], r.get("vs")): r for r in data["slopes"]}

    def cell(r):
        if not r:
            return "—"
        point = tag("span", " (1 conversation: no interval)", class_="muted") if r.get("n", 2) < 2 else ""
        return join([fmt(r["mean"]), " ", tag("span", ci(r["low"], r["high"]), class_="ci"), point])

    rows = []
    for measure in dict.fromkeys(r["measure"] for r in data["slopes"]):
        for i, family in enumerate(families):
            rows.append([measure if i == 0 else "", family, *(cell(by.get((measure, arm, family, None))) for arm in arms),
                         *(cell(by.get((measure, arm, family, arms[0]))) for arm in arms[1:])])
    head = ["measure", "family", *arms, *(f"{arm} − {arms[0]}" for arm in arms[1:])]
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
        single = single_conversation_families(data)
        if single:
            parts.append(tag("p", f"One conversation in {', '.join(single)}: a bootstrap interval over one "
                                  "conversation is a single point, not a confidence interval; raise conversations "
                                  "for a real one.", class_="note warn"))
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
