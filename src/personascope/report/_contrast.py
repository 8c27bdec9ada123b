"""The `contrast` section: in-sample separation per layer, and the two sides' responses."""

import json
import math

from personascope.report._default import EXAMPLES, artifacts_list, browse_button, metrics_table, prompt_of, response
from personascope.report._html import Html, dl, fmt, join, note, tag
from personascope.report._registry import StepView, section

IN_SAMPLE = (
    "These are in-sample numbers: Cohen's d and AUROC are measured on the very responses the vector "
    "was built from. They show that the contrast took hold; they overstate how well the vector "
    "separates new text. Judge the vector by what it does in later steps."
)


def load_layers(view: StepView) -> tuple[list[dict], Html]:
    """The `layers` table (rows of layer, norm, cohens_d, auroc) and a note if it is missing or bad."""
    path = view.artifact_path("layers")
    if path is None:
        return [], Html("")
    try:
        rows = json.loads(path.read_text())
        rows = [r for r in rows if isinstance(r, dict) and isinstance(r.get("layer"), int)]
    except (OSError, ValueError, TypeError) as exc:
        return [], note(f"Could not read the layers table {path.name}: {exc}", kind="warn")
    return rows, Html("")


def best_layer(view: StepView, layers: list[dict]) -> int | None:
    recorded = next((m.value for m in view.metrics if m.name.startswith("best layer")), None)
    if isinstance(recorded, (int, float)) and math.isfinite(recorded):
        return int(recorded)
    finite = [r for r in layers if isinstance(r.get("cohens_d"), (int, float)) and math.isfinite(r["cohens_d"])]
    return max(finite, key=lambda r: r["cohens_d"])["layer"] if finite else None


def pairs(view: StepView) -> Html:
    """A few questions with the positive and the negative answer next to each other."""
    by_sample: dict[str, dict] = {}
    for t in view.transcripts:
        by_sample.setdefault(t.sample, {}).setdefault(t.arm, t)
    blocks = []
    for sample in sorted(by_sample)[:EXAMPLES]:
        sides = by_sample[sample]
        cards = [response(sides[arm], arm, kind=arm) for arm in ("positive", "negative") if arm in sides]
        cards += [response(t, arm) for arm, t in sides.items() if arm not in ("positive", "negative")]
        question = prompt_of(next(iter(sides.values())))
        blocks.append(tag("div", tag("div", tag("span", "question", class_="k"), " ", question, class_="prompt"), tag("div", *cards, class_="grid two"), class_="example"))
    return join(blocks)


@section("contrast")
def contrast_section(view: StepView) -> Html:
    from personascope.report._figures import layers_plot

    layers, problem = load_layers(view)
    best = best_layer(view, layers)
    row = next((r for r in layers if r["layer"] == best), {})
    facts = [
        ("best layer (by in-sample d)", fmt(best)),
        ("Cohen's d at that layer", fmt(row.get("cohens_d"))),
        ("AUROC at that layer", fmt(row.get("auroc"))),
        ("vector norm at that layer", fmt(row.get("norm"))),
        ("questions", fmt(len(view.config.get("questions") or []) or None)),
        ("pooling", view.config.get("pooling", "—")),
    ]
    systems = [
        tag("div", tag("div", f"{side} system prompt", class_="label"), tag("div", view.config[f"{side}_system"], class_="text"), class_=f"response {side}")
        for side in ("positive", "negative") if view.config.get(f"{side}_system")
    ]
    parts = [
        note(tag("strong", "In-sample. "), IN_SAMPLE, kind="warn"),
        problem,
        tag(
            "div",
            layers_plot(layers, best) if layers else tag("p", "No per-layer table was recorded.", class_="muted"),
            dl(facts) if layers or view.metrics else "",
            class_="side",
        ),
        tag("h4", "Metrics"), metrics_table(view.metrics),
        tag("h4", "System prompts") if systems else "", tag("div", *systems, class_="grid two") if systems else "",
    ]
    examples = pairs(view)
    if examples:
        parts += [tag("h4", "Positive and negative responses"), examples]
    parts += [artifacts_list(view), browse_button(view.id, len(view.transcripts))]
    return join(parts)
