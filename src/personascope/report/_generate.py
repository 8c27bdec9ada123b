"""The `generate` section: metrics per model and arm, projection plots, responses side by side."""

from personascope.report._default import EXAMPLES, browse_button, prompt_of, response
from personascope.report._html import Html, ci, fmt, join, table, tag
from personascope.report._registry import StepView, section


def _ordered(values) -> list[str]:
    return list(dict.fromkeys(values))


def arm_setup(arm: dict) -> str:
    """An arm's conditions in one line: `steer mood@14:1.0`, or `plain`."""
    parts = [f"{kind} {spec}" for kind in ("steer", "ablate", "cap") for spec in arm.get(kind) or []]
    if arm.get("system") is not None:
        parts.append(f"system prompt: {arm['system']}")
    return "; ".join(parts) or "plain"


def metrics_by_arm(view: StepView, models: list[str], arms: list[str]) -> Html:
    """One row per model and arm, one column per metric, each cell `value [CI]`."""
    names = _ordered(m.name for m in view.metrics)
    if not names:
        return tag("p", "No metrics.", class_="muted")
    found = {(m.model, m.arm, m.name): m for m in view.metrics}
    setups = view.config.get("arms") or {}
    rows = []
    for model in models:
        for arm in arms:
            cells = []
            for name in names:
                m = found.get((model, arm, name))
                cells.append(join([fmt(m.value), " ", tag("span", ci(m.ci_low, m.ci_high), class_="ci")]) if m else "—")
            if any(c != "—" for c in cells):
                rows.append([model, arm, arm_setup(setups.get(arm, {})), *cells])
    numeric = range(3, 3 + len(names))
    return table(["model", "arm", "setup", *names], rows, numeric=numeric)


def projection_plots(view: StepView, models: list[str], arms: list[str]) -> Html:
    from personascope.report._figures import projection_plot

    names = _ordered(m.name for m in view.metrics if m.name.startswith("projection "))
    figures = []
    for name in names:
        estimates = {(m.model, m.arm): m for m in view.metrics if m.name == name}
        values: dict = {}
        for t in view.transcripts:
            if isinstance(t.scores.get(name), (int, float)):
                values.setdefault((t.model, t.arm), []).append(t.scores[name])
        figures.append(projection_plot(name, arms, models, estimates, values))
    return join(figures)


def side_by_side(view: StepView, models: list[str], arms: list[str]) -> Html:
    """The same prompts answered in every arm, one row of cards per prompt."""
    by_prompt: dict[str, dict] = {}
    for t in view.transcripts:
        base = t.sample.split("#")[0]  # samples > 1 are stored as `id#k`: show the first of each
        by_prompt.setdefault(base, {}).setdefault((t.model, t.arm), t)
    blocks = []
    for base in sorted(by_prompt)[:EXAMPLES]:
        cells = by_prompt[base]
        cards = [
            response(cells[(model, arm)], arm if len(models) == 1 else f"{model} · {arm}")
            for model in models for arm in arms if (model, arm) in cells
        ]
        prompt = prompt_of(next(iter(cells.values())))
        blocks.append(tag("div", tag("div", tag("span", "prompt", class_="k"), " ", prompt, class_="prompt"), tag("div", *cards, class_="grid"), class_="example"))
    return join(blocks)


@section("generate")
def generate_section(view: StepView) -> Html:
    seen = [(m.model, m.arm) for m in view.metrics] + [(t.model, t.arm) for t in view.transcripts]
    models = _ordered(model for model, _ in seen)
    # Config order first (stable across rebuilds), then any arm only the data knows.
    arms = _ordered([*(view.config.get("arms") or {}), *(arm for _, arm in seen)])
    arms = [a for a in arms if any(arm == a for _, arm in seen)]
    if not seen:
        return tag("p", "This step recorded no responses or metrics.", class_="muted")
    settings = [f"{k.replace('_', ' ')} {fmt(view.config[k])}" for k in ("samples", "max_tokens", "temperature", "top_p") if k in view.config]
    parts = [
        tag("p", " · ".join(settings), class_="muted") if settings else "",
        tag("h4", "Metrics per model and arm"),
        metrics_by_arm(view, models, arms),
        projection_plots(view, models, arms),
    ]
    examples = side_by_side(view, models, arms)
    if examples:
        parts += [tag("h4", "Responses side by side"), examples]
    parts.append(browse_button(view.id, len(view.transcripts)))
    return join(parts)
