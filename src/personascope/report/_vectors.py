"""The `vectors` section: held-out quality per layer, the judge's sanity check,
what the filter kept, the steering check and steered examples."""

import json

from personascope.report._default import EXAMPLES, artifacts_list, browse_button, metrics_table, prompt_of, response
from personascope.report._figures import COLORS, cached_figure, figure, finite, label, png
from personascope.report._html import Html, dl, fmt, join, note, tag
from personascope.report._registry import StepView, section


def _json(view: StepView, name: str, kind: str):
    path = view.artifact_path(name)
    if path is None:
        return None, Html("")
    try:
        return json.loads(path.read_text()), Html("")
    except (OSError, ValueError) as exc:
        return None, note(f"Could not read the {kind} {path.name}: {exc}", kind="warn")


@cached_figure
def quality_plot(layers: list, chosen, by: str = "in_context") -> Html:
    """Held-out AUROC (response text alone, and with the system prompt in context) and Cohen's d per layer.

    The reading that chose the layer (`by`) is drawn solid and gives the markers and the title.
    """
    xs = [int(r["layer"]) for r in layers]
    context = [finite(r.get("auroc")) for r in layers]
    text = [finite(r.get("auroc_text_only")) for r in layers]
    has_text = any(t == t for t in text)
    if by == "text_only" and has_text:
        auc, other, names = text, context, ("response text only", "system prompt in context")
        d = [finite(r.get("cohens_d_text_only")) for r in layers]
    else:
        auc, other, names = context, text, ("system prompt in context", "response text only")
        d = [finite(r.get("cohens_d")) for r in layers]
    with figure(6.4, 4.0, nrows=2, sharex=True, height_ratios=[3, 2]) as (fig, (top, bottom)):
        top.plot(xs, auc, marker="o", markersize=3.5, color=COLORS[0], label=names[0])
        if any(t == t for t in other):
            top.plot(xs, other, marker=".", linestyle="--", color=COLORS[2], label=names[1])
            top.legend(frameon=False, fontsize=8, loc="upper left")
        top.axhline(0.5, color="#666", linewidth=0.8, linestyle="--")
        top.set_ylabel("held-out AUROC")
        top.set_ylim(min([0.4, *(a for a in auc + other if a == a)]) - 0.02, 1.03)
        bottom.plot(xs, d, marker="o", markersize=3.5, color=COLORS[3])
        bottom.set_ylabel(f"Cohen's d ({names[0]})")
        bottom.set_xlabel("layer (output of decoder block i)")
        if chosen in xs:
            k = xs.index(chosen)
            for ax, ys in ((top, auc), (bottom, d)):
                ax.axvline(chosen, color=COLORS[1], linewidth=1.2, linestyle=":")
                ax.plot([chosen], [ys[k]], marker="o", markersize=9, markerfacecolor="none", markeredgecolor=COLORS[1], markeredgewidth=1.5)
            top.set_title(label(f"Held-out separation per layer · chosen layer {chosen}\n({names[0]}: AUROC {auc[k]:.3g}, d {d[k]:.3g})"))
        return png(fig, f"Held-out AUROC and Cohen's d per layer ({names[0]} solid); the dotted line marks the chosen layer")


@cached_figure
def steer_plot(rows: list, layer) -> Html:
    """Mean projection of steered responses per coefficient, with 95% CIs."""
    rows = sorted(rows, key=lambda r: r["coef"])
    xs = [float(r["coef"]) for r in rows]
    ys = [finite(r.get("projection")) for r in rows]
    # A missing CI bound draws no bar on that side (NaN - y would hide the point).
    lo = [max(y - finite(r.get("low")), 0.0) if finite(r.get("low")) == finite(r.get("low")) else 0.0 for r, y in zip(rows, ys)]
    hi = [max(finite(r.get("high")) - y, 0.0) if finite(r.get("high")) == finite(r.get("high")) else 0.0 for r, y in zip(rows, ys)]
    with figure(4.8, 3.0) as (fig, ax):
        ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o-", color=COLORS[0], capsize=4, markersize=5)
        ax.set_xlabel("steering coefficient")
        ax.set_ylabel("projection (mean, 95% CI)")
        ax.set_title(label(f"Steering check at layer {layer}"))
        return png(fig, f"Mean projection of steered responses per coefficient at layer {layer}, with 95% confidence intervals")


def sanity_block(meta: dict) -> Html:
    check, decision, judge = meta.get("sanity_check"), meta.get("filter") or {}, meta.get("judge") or {}
    if not judge.get("enabled") and not check:
        return note(tag("strong", "No judge. "), "Responses were not judged (--no-judge), so nothing was filtered.", kind="info")
    if not check:
        return note("No trait scores to check: ", decision.get("reason", ""), kind="warn")
    auroc = check.get("auroc")
    verdict = "passed" if check.get("ok") else "failed"
    applied = "filtered" if decision.get("applied") else "not filtered: every response kept"
    text = [
        tag("strong", f"Judge sanity check {verdict}: AUROC {fmt(auroc) if auroc is not None else 'n/a'}. "),
        f"The judge ({judge.get('model') or 'scores from the response files'}) scored {fmt(check.get('n_pos'))} positive- and "
        f"{fmt(check.get('n_neg'))} negative-prompted responses. ",
        check.get("warning") or "",
        tag("br"), f"Filter {decision.get('policy')}: {applied}.",
    ]
    return note(*text, kind="info" if check.get("ok") else "warn")


def steered_examples(view: StepView) -> Html:
    by_q: dict[str, dict] = {}
    for t in view.transcripts:
        if t.metadata.get("steer_check"):
            by_q.setdefault(t.sample, {})[t.arm] = t
    blocks = []
    for sample in sorted(by_q)[:EXAMPLES]:
        arms = by_q[sample]
        ordered = sorted(arms.items(), key=lambda kv: kv[1].metadata.get("coef", 0.0))
        cards = [response(t, arm) for arm, t in ordered]
        question = prompt_of(ordered[0][1])
        blocks.append(tag("div", tag("div", tag("span", "question", class_="k"), " ", question, class_="prompt"), tag("div", *cards, class_="grid"), class_="example"))
    return join(blocks)


def contrast_examples(view: StepView) -> Html:
    by_sample: dict[str, dict] = {}
    for t in view.transcripts:
        if t.metadata.get("split") == "extract":
            by_sample.setdefault(t.sample, {}).setdefault(t.arm, t)
    blocks = []
    for sample in list(by_sample)[:EXAMPLES]:
        sides = by_sample[sample]
        cards = [response(sides[arm], arm + ("" if sides[arm].metadata.get("kept") else " (dropped)"), kind=arm) for arm in ("positive", "negative") if arm in sides]
        question = prompt_of(next(iter(sides.values())))
        blocks.append(tag("div", tag("div", tag("span", "question", class_="k"), " ", question, class_="prompt"), tag("div", *cards, class_="grid two"), class_="example"))
    return join(blocks)


@section("vectors")
def vectors_section(view: StepView) -> Html:
    layers, problem = _json(view, "layers", "per-layer table")
    vector = view.artifact_path("vector")
    meta, meta_problem = {}, Html("")
    if vector is not None and (vector / "meta.json").is_file():
        try:
            meta = json.loads((vector / "meta.json").read_text())
        except ValueError as exc:
            meta_problem = note(f"Could not read the vector's meta.json: {exc}", kind="warn")
    chosen = meta.get("chosen_layer")
    row = next((r for r in layers or [] if r.get("layer") == chosen), {})
    counts = meta.get("counts") or {}
    by = meta.get("layer_selected_by") if meta.get("layer_selected_by") in ("text_only", "in_context") else "in_context"
    text = [("held-out AUROC, text only", fmt(row.get("auroc_text_only"))),
            ("held-out Cohen's d, text only", fmt(row.get("cohens_d_text_only")))]
    context = [("held-out AUROC, prompt in context", fmt(row.get("auroc"))),
               ("held-out Cohen's d, prompt in context", fmt(row.get("cohens_d")))]
    facts = [
        ("trait", meta.get("trait", view.config.get("trait"))),
        ("chosen layer", f"{fmt(chosen)} (by {'text only' if by == 'text_only' else 'prompt in context'})"),
        *(text + context if by == "text_only" else context + text),
        ("responses (positive / negative)", f"{fmt(counts.get('positive'))} / {fmt(counts.get('negative'))}"),
        ("kept pairs", f"{fmt(counts.get('pairs_kept'))} of {fmt(counts.get('pairs'))}"),
        ("held-out questions", fmt(counts.get("eval_questions"))),
    ]
    parts = [
        problem, meta_problem, sanity_block(meta) if meta else Html(""),
        tag("div", quality_plot(layers, chosen, by) if layers else tag("p", "No per-layer table was recorded.", class_="muted"), dl(facts), class_="side"),
        tag("p", "Layer choice: ", meta.get("layer_choice", "—"), ". AUROC is measured on held-out eval questions. Text only reads each response after its question "
            "alone, as a monitor of a deployed model would; prompt in context reads it after its own trait-eliciting "
            "system prompt, so part of that separation is the prompt itself.", class_="muted"),
    ]
    steer, steer_problem = _json(view, "steer_check", "steering check")
    parts.append(steer_problem)
    if steer and steer.get("coefs"):
        verdict = "rises monotonically" if steer.get("monotonic") else "does not rise monotonically"
        parts += [tag("h4", "Steering check"), steer_plot(steer["coefs"], steer.get("layer")),
                  tag("p", f"The mean projection of steered responses {verdict} with the coefficient.", class_="muted")]
        examples = steered_examples(view)
        if examples:
            parts += [tag("h4", "Steered responses"), examples]
    parts += [tag("h4", "Metrics"), metrics_table(view.metrics)]
    examples = contrast_examples(view)
    if examples:
        parts += [tag("h4", "Positive and negative responses"), examples]
    parts += [artifacts_list(view), browse_button(view.id, len(view.transcripts))]
    return join(parts)

