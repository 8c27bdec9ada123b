"""The `train` section: the trait rate per arm and condition with CIs (the headline),
the inoculation effects and retention, the checkpoint monitor's curves per arm, and
a few answers. It reads the step's result JSON: `arms`, `models`, `monitor`
({arm: {seed: rows}}), `eval` (rows) and `summary` (`personascope.train.summarize`)."""

from personascope.report._html import Html, ci, fmt, join, note, table, tag
from personascope.report._registry import StepView, section
from personascope.report._train_figures import monitor_figure

_EXAMPLES = 2
"""Answers shown per arm and condition."""


def _ordered(values) -> list:
    return list(dict.fromkeys(values))


def _with_ci(row: dict | None) -> Html:
    if row is None:
        return Html("—")
    return join([fmt(row.get("value")), " ", tag("span", ci(row.get("ci_low"), row.get("ci_high")), class_="ci")])


def _arm_setup(arm: dict) -> str:
    from personascope.train import PromptContext

    parts = []
    context = arm.get("context") or {}
    try:
        parts.append(PromptContext.model_validate(context).label())
    except ValueError:
        parts.append(str(context))
    for key in ("regenerate_system", "init_from"):
        if arm.get(key):
            parts.append(f"{key.replace('_', ' ')}: {arm[key]}")
    if arm.get("steer"):
        parts.append("steer: " + ", ".join(map(str, arm["steer"])))
    if arm.get("kl"):
        parts.append(f"KL {fmt(arm['kl'])}")
    return "; ".join(parts)


def _examples(rows: list[dict], arms: list[str], conditions: list[str]) -> Html:
    out = []
    for arm in arms:
        for cond in conditions:
            picked = [r for r in rows if r["arm"] == arm and r["condition"] == cond][:_EXAMPLES]
            for r in picked:
                question = (r.get("messages") or [{}])[-1].get("content", "")
                scores = ", ".join(f"{k} {fmt(v)}" for k, v in (r.get("scores") or {}).items())
                out.append([arm, cond, str(r.get("seed")), question, tag("span", r.get("answer", ""), class_="answer"), scores])
    return table(["arm", "condition", "seed", "prompt", "answer", "scores"], out) if out else Html("")


def _grid(title: str, rows: list[dict], key: str, arms: list, conditions: list) -> list[Html]:
    """A heading and an arm x condition table with one column per `row[key]`."""
    found = {(r["arm"], r["condition"], r[key]): r for r in rows}
    names = _ordered(r[key] for r in rows)
    body = [[a, c, *(_with_ci(found.get((a, c, n))) for n in names)] for a in arms for c in conditions
            if any((a, c, n) in found for n in names)]
    return [tag("h4", title), table(["arm", "condition", *names], body, numeric=range(2, 2 + len(names)))]


def _column(title: str, rows: list[dict] | None, key: str, header: str) -> list[Html]:
    """A heading and an arm x `row[key]` table of one value with its CI (nothing without rows)."""
    if not rows:
        return []
    return [tag("h4", title), table(["arm", key, header], [[r["arm"], r[key], _with_ci(r)] for r in rows], numeric=[2])]


def train_result(data: dict, model: str | None = None) -> Html:
    """The fragment of one result JSON."""
    from personascope.train import summarize

    rows = data.get("eval") or []
    summary = data.get("summary") or (summarize(rows) if rows else {})
    rates = summary.get("rates") or []
    arms = _ordered([*(data.get("arms") or {}), *(r["arm"] for r in rates)])
    conditions = _ordered(r["condition"] for r in rates)
    models = data.get("models") or {}
    parts = []
    if data.get("arms"):
        setup = [[a, _arm_setup(data["arms"].get(a) or {}), ", ".join(str(m) for m in (models.get(a) or {}).values())] for a in arms]
        parts.append(table(["arm", "training context", "models"], setup))
    if rates:
        threshold = fmt(summary.get("threshold", 50))
        parts += _grid(f"Trait rate per arm and condition (share of replies scoring ≥ {threshold}; 95% bootstrap CIs over seeds and prompts)",
                       rates, "scorer", arms, conditions)
    reference, on = summary.get("reference", "plain"), f"condition {summary.get('condition', 'none')}; paired bootstrap CI"
    parts += _column(f"Effect: {reference} minus arm ({on})", summary.get("effects"), "scorer", "effect")
    parts += _column(f"Retention: arm rate / {reference} rate", summary.get("retention"), "scorer", "retention")
    if rates and not summary.get("effects") and not summary.get("retention"):
        parts.append(note(f"No arm named {reference!r}: effects and retention need a reference arm.", kind="warn"))
    means = summary.get("means") or []
    if means:
        parts += _grid("Mean score and projection per arm and condition (95% bootstrap CIs)", means, "measure",
                       _ordered(r["arm"] for r in means), conditions or _ordered(r["condition"] for r in means))
    parts += _column(f"Mean effect: {reference} minus arm ({on})", summary.get("mean_effects"), "measure", "effect")
    parts += _column(f"Shift from the base model: arm minus base ({on})", summary.get("shifts"), "measure", "shift")
    monitor = {arm: seeds for arm, seeds in (data.get("monitor") or {}).items() if any(seeds.values())}
    if monitor:
        parts += [tag("h4", "Checkpoint monitor"), monitor_figure(monitor)]
    examples = _examples(rows, arms, conditions)
    if examples:
        parts += [tag("h4", "Answers"), examples]
    if not parts:
        return tag("p", "This step recorded no evaluation or monitor rows.", class_="muted")
    return join([tag("h4", f"Model {model}") if model else "", *parts])


@section("train")
def train_section(view: StepView) -> Html:
    results = [d for d in view.json_artifacts() if isinstance(d, dict) and ({"eval", "summary", "monitor"} & set(d))]
    if not results:
        return tag("p", "This step recorded no results.", class_="muted")
    many = len(results) > 1
    return join(train_result(d, d.get("model") if many else None) for d in results)
