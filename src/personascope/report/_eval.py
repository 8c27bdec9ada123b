"""The `eval` section: the suite's statistics per arm (headline ones plotted with
their CIs), differences against the first arm, and answers side by side."""

import math
from collections.abc import Sequence

from personascope.report._default import browse_button
from personascope.report._figures import COLORS, _ci_err, cached_figure, figure, finite, label, png
from personascope.report._generate import arm_setup, side_by_side
from personascope.report._html import Html, ci, fmt, join, note, table, tag
from personascope.report._registry import StepView, section


def _ordered(values) -> list[str]:
    return list(dict.fromkeys(values))


def stats_table(view: StepView, model: str, arms: list[str]) -> Html:
    """Statistics as rows, arms as columns; differences (named `X - arm`) in their own columns."""
    found = {(m.arm, m.name): m for m in view.metrics if m.model == model}
    diff_names = [m.name for m in view.metrics if m.model == model and " - " in m.name]
    names = _ordered(m.name for m in view.metrics if m.model == model and m.name not in diff_names)
    heads = {m.name for m in view.metrics if m.headline}
    rows = []
    for name in names:
        cells = [tag("b", name) if name in heads else name]
        for arm in arms:
            m = found.get((arm, name))
            cells.append(join([fmt(m.value), " ", tag("span", ci(m.ci_low, m.ci_high), class_="ci")]) if m else "—")
        for arm in arms[1:]:
            m = found.get((arm, f"{name} - {arms[0]}"))
            cells.append(join([fmt(m.value), " ", tag("span", ci(m.ci_low, m.ci_high), class_="ci")]) if m else "—")
        rows.append(cells)
    head = ["statistic", *arms, *(f"{a} − {arms[0]}" for a in arms[1:])]
    return table(head, rows, numeric=range(1, len(head)))


@cached_figure
def headline_plot(names: Sequence[str], arms: Sequence[str], estimates: dict) -> Html:
    """Each headline statistic's mean per arm with its 95% CI."""
    with figure(max(4.0, 1.6 * len(names) + 1.5), 3.0) as (fig, ax):
        width = 0.8 / max(len(arms), 1)
        for j, arm in enumerate(arms):
            ms = [estimates.get((arm, n)) for n in names]
            ys = [finite(m.value) if m else math.nan for m in ms]
            errs = [_ci_err(m, y) for m, y in zip(ms, ys)]
            xs = [i + (j - (len(arms) - 1) / 2) * width for i in range(len(names))]
            ax.bar(xs, [0 if math.isnan(y) else y for y in ys], width * 0.9, color=COLORS[j % len(COLORS)], label=label(arm),
                   yerr=[[e[0] for e in errs], [e[1] for e in errs]], capsize=3)
        ax.set_xticks(range(len(names)), [label(n) for n in names])
        ax.set_ylabel("mean, 95% CI")
        ax.grid(axis="x", visible=False)
        if len(arms) > 1:
            ax.legend(frameon=False, fontsize=8)
        return png(fig, "headline statistics per arm with 95% confidence intervals")


@section("eval")
def eval_section(view: StepView) -> Html:
    seen = [(m.model, m.arm) for m in view.metrics] + [(t.model, t.arm) for t in view.transcripts]
    if not seen:
        return tag("p", "This step recorded no answers or metrics.", class_="muted")
    models = _ordered(model for model, _ in seen)
    arms = [a for a in _ordered([*(view.config.get("arms") or {}), *(arm for _, arm in seen)]) if any(arm == a for _, arm in seen)]
    setups = view.config.get("arms") or {}
    options = view.config.get("options") or {}
    parts = [
        tag("p", f"suite {view.config.get('suite', '?')}", *(f" · {k} {fmt(v)}" for k, v in options.items()),
            f" · limit {fmt(view.config['limit'])}" if view.config.get("limit") else "", class_="muted"),
        table(["arm", "setup"], [[a, arm_setup(setups.get(a, {}))] for a in arms]),
    ]
    # The suite's own warnings (e.g. a model that gives one answer whatever the item says), from the result JSON.
    for data in view.json_artifacts():
        for arm, warnings in (data.get("warnings") or {}).items():
            for text in warnings:
                parts.append(note(tag("strong", f"Warning ({data.get('model', '?')}, {arm}): "), str(text), kind="warn"))
    for model in models:
        if len(models) > 1:
            parts.append(tag("h4", f"Model {model}"))
        heads = _ordered(m.name for m in view.metrics if m.model == model and m.headline and " - " not in m.name)
        if heads:
            estimates = {(m.arm, m.name): m for m in view.metrics if m.model == model}
            parts.append(headline_plot(heads, arms, estimates))
        parts += [tag("h4", "Statistics (95% bootstrap CIs)"), stats_table(view, model, arms)]
    examples = side_by_side(view, models, arms)
    if examples:
        parts += [tag("h4", "Answers side by side"), examples]
    parts.append(browse_button(view.id, len(view.transcripts)))
    return join(parts)
