"""The `rtt` section: how often each model picked itself out against chance, where
the twin sat and what was picked, the strategies of its questions, and one interview."""

import json
import math
from collections.abc import Sequence

from personascope.report._default import browse_button
from personascope.report._figures import COLORS, cached_figure, figure, finite, label, png
from personascope.report._html import Html, ci, fmt, join, table, tag
from personascope.report._registry import StepView, section
from personascope.conversations import strategies


def _results(view: StepView) -> list[tuple[str, dict]]:
    """(model alias, `RTTResult.to_json()`) per model, from the step's artifacts."""
    out = []
    for a in view.artifacts:
        path = view.run_dir / a.path
        if a.kind == "json" and a.name.startswith("rtt ") and path.is_file():
            out.append((a.name.removeprefix("rtt "), json.loads(path.read_text())))
    return out


@cached_figure
def accuracy_plot(models: Sequence[str], estimates: Sequence[dict], chance: float) -> Html:
    """Accuracy per model with its 95% CI, and the chance line 1/K."""
    with figure(max(3.2, 1.1 * len(models) + 2.0), 2.8) as (fig, ax):
        ys = [finite(e["value"]) for e in estimates]
        low = [y - finite(e["low"]) if not math.isnan(y) else 0 for y, e in zip(ys, estimates)]
        high = [finite(e["high"]) - y if not math.isnan(y) else 0 for y, e in zip(ys, estimates)]
        ax.bar(range(len(models)), [0 if math.isnan(y) else y for y in ys], 0.6, color=COLORS[0],
               yerr=[[max(v, 0) for v in low], [max(v, 0) for v in high]], capsize=4)
        ax.axhline(chance, color=COLORS[1], linestyle="--", linewidth=1.2, label=f"chance ({fmt(chance)})")
        ax.set_xticks(range(len(models)), [label(m) for m in models])
        ax.set_xlim(-0.8, len(models) - 0.2)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("accuracy, 95% CI")
        ax.grid(axis="x", visible=False)
        ax.legend(frameon=False, fontsize=8, loc="upper right")
        return png(fig, "share of trials in which the model picked its twin, with 95% CI and the chance level")


@cached_figure
def strategy_plot(names: Sequence[str], series: dict) -> Html:
    """Questions per strategy: one bar group per strategy, one bar per model (and judge)."""
    with figure(max(4.0, 0.9 * len(names) + 1.5), 2.8) as (fig, ax):
        keys = list(series)
        width = 0.8 / max(len(keys), 1)
        for j, key in enumerate(keys):
            xs = [i + (j - (len(keys) - 1) / 2) * width for i in range(len(names))]
            ax.bar(xs, [series[key].get(n, 0) for n in names], width * 0.9, color=COLORS[j % len(COLORS)], label=label(key))
        ax.set_xticks(range(len(names)), [label(n) for n in names], rotation=20, ha="right")
        ax.set_ylabel("questions")
        ax.grid(axis="x", visible=False)
        if len(keys) > 1:
            ax.legend(frameon=False, fontsize=8)
        return png(fig, "number of the target's questions per strategy")


def confusion_table(data: dict) -> Html:
    labels = [chr(65 + i) for i in range(len(data["candidates"]))]
    rows = [[tag("b", f"twin at {x}"), *(fmt(c) if c else "·" for c in row)] for x, row in zip(labels, data["confusion"])]
    return table(["", *(f"picked {x}" for x in labels), "none read"], rows, numeric=range(1, len(labels) + 2))


def interview(data: dict) -> Html:
    """The first trial: each question and every candidate's answer, the twin and the pick marked."""
    trial = data["trials"][0]
    labels = list(trial["answers"])
    heads = [join([f"{x} · {name}", " ★ twin" if x == trial["twin"] else "", " ← picked" if x == trial["picked"] else ""])
             for x, name in zip(labels, trial["order"])]
    rows = [[join([tag("b", f"Q{q + 1}"), " ", text]), *(trial["answers"][x][q] for x in labels)]
            for q, text in enumerate(trial["questions"])]
    probs = trial.get("probs") or {}
    verdict = f"Trial 1: the twin was {trial['twin']}, the model picked {trial['picked'] or 'nothing readable'}"
    verdict += f" (p = {', '.join(f'{x} {fmt(p)}' for x, p in probs.items())})." if probs else "."
    return join([tag("p", verdict, class_="muted"), table(["question", *heads], rows)])


def candidates_table(config: dict) -> Html:
    rows = [[c["name"], c.get("model") or "the target",
             c["system"] if c.get("system") is not None else tag("span", "the target's own", class_="muted")]
            for c in config.get("candidates") or []]
    return table(["candidate", "model", "system prompt"], rows)


@section("rtt")
def rtt_section(view: StepView) -> Html:
    results = _results(view)
    if not results:
        return tag("p", "This step recorded no results.", class_="muted")
    config = results[0][1]["config"]
    parts = [
        tag("p", f"{len(config['candidates'])} candidates · {fmt(config['trials'])} trials · "
                 f"{fmt(config['questions'])} questions per trial · answers of up to {fmt(config['max_tokens'])} tokens",
            class_="muted"),
        candidates_table(config),
        accuracy_plot([m for m, _ in results], [d["accuracy"] for _, d in results], results[0][1]["chance"]),
    ]
    rows = [[m, join([fmt(d["accuracy"]["value"]), " ", tag("span", ci(d["accuracy"]["low"], d["accuracy"]["high"]), class_="ci")]),
             fmt(d["chance"]), fmt(d["p_value"]),
             join([fmt(d["p_twin"]["value"]), " ", tag("span", ci(d["p_twin"]["low"], d["p_twin"]["high"]), class_="ci")])
             if d["p_twin"]["n"] else "—"] for m, d in results]
    parts += [table(["model", "accuracy", "chance", "p (binomial, > chance)", "p(twin)"], rows, numeric=range(1, 5))]
    series = {}
    for model, data in results:
        series[model if len(results) > 1 else "keywords"] = data["strategies"]
        if data.get("judged"):
            series[f"{model} (judge)" if len(results) > 1 else "judge"] = data["judged"]
    # Every strategy, zeros included: what the model never tried is part of the picture.
    names = list(dict.fromkeys([*strategies(), *(n for counts in series.values() for n in counts)]))
    parts += [tag("h4", "Question strategies"), strategy_plot(names, series) if names else ""]
    for model, data in results:
        parts.append(tag("h4", f"Picked against the twin's position ({model})" if len(results) > 1 else "Picked against the twin's position"))
        parts.append(confusion_table(data))
        if data["trials"]:
            parts += [tag("h4", "One interview" + (f" ({model})" if len(results) > 1 else "")), interview(data)]
    parts.append(browse_button(view.id, len(view.transcripts)))
    return join(parts)
