"""What a `vectors` step leaves in the run: metrics, transcripts, tables, and the steering check."""

import json
from pathlib import Path


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and value == value


def record_extraction(step, ctx, alias: str, result, out: Path) -> None:
    from personascope.store import Artifact, Metric, Transcript, cache_key
    from personascope.protocol._context_names import VECTOR_DIR

    meta = result.meta
    text = {r["layer"]: r for r in meta.get("layers_text_only") or []}
    norms = result.vector.norms().tolist()
    rows = [
        {**r, "auroc_text_only": text.get(r["layer"], {}).get("auroc"), "cohens_d_text_only": text.get(r["layer"], {}).get("cohens_d"),
         "norm": norms[r["layer"]]}
        for r in meta["layers"]
    ]
    (out / "layers.json").write_text(json.dumps(rows, indent=1))
    rel = lambda p: str(p.relative_to(ctx.run_dir))  # noqa: E731
    ctx.store.add_artifact(Artifact(step.id, "vector", "vector", rel(out / VECTOR_DIR), {
        "layers": result.vector.n_layers, "hidden_size": result.vector.hidden_size, "chosen_layer": result.chosen_layer,
        "poolings": meta["poolings"],
    }))
    ctx.store.add_artifact(Artifact(step.id, "layers", "table", rel(out / "layers.json"), {
        "columns": list(rows[0]) if rows else [], "held_out": True,
    }))
    chosen = meta["layers"][result.chosen_layer]
    counts, check = meta["counts"], meta.get("sanity_check") or {}
    n_eval = meta["quality"]["positive"] + meta["quality"]["negative"]
    metrics = [
        Metric(step.id, "held-out AUROC", chosen["auroc"] if _finite(chosen["auroc"]) else float("nan"), model=alias, n=n_eval, headline=True),
        Metric(step.id, "held-out Cohen's d", chosen["cohens_d"] if _finite(chosen["cohens_d"]) else float("nan"), model=alias, n=n_eval, headline=True),
        Metric(step.id, "chosen layer", result.chosen_layer, model=alias),
        Metric(step.id, "kept pairs", counts["pairs_kept"], model=alias, n=counts["pairs"]),
    ]
    if _finite(check.get("auroc")):
        metrics.append(Metric(step.id, "judge sanity AUROC", check["auroc"], model=alias, n=check.get("n_pos", 0) + check.get("n_neg", 0)))
    ctx.store.add_metrics(metrics)
    ctx.store.add_transcripts(
        Transcript(
            id=cache_key(step=step.id, split=s.split, unit=s.unit, side=s.side, n=i)[:16], step=step.id, model=alias, arm=s.side,
            sample=f"{s.split} {s.unit if s.unit is not None else i}",
            messages=[*s.messages(), {"role": "assistant", "content": s.response}], output=s.response,
            scores={k: v for k, v in (("trait", s.trait), ("coherence", s.coherence), ("projection", s.projection)) if _finite(v)},
            metadata={"split": s.split, "kept": s.kept, "pair": s.pair, "finish_reason": s.finish_reason},
        )
        for i, s in enumerate(result.samples)
    )


def run_steer_check(step, ctx, alias: str, model, spec, result, vector_dir: Path) -> None:
    """Steer on held-out questions with each coefficient and record what the text carries."""
    from personascope.store import Artifact, Metric, Transcript, cache_key
    from personascope.vectors._steercheck import monotonic, steer_check

    check = step.steer_check
    layer = result.chosen_layer
    questions = spec.questions.eval[: check.questions]
    rows = steer_check(
        model, vector_dir, layer, questions, check.coefs, max_tokens=check.max_tokens or step.max_tokens,
        batch_size=step.batch_size, scorers=_scorers(spec), seed=ctx.seed, steps=ctx.progress,
    )
    metrics, transcripts = [], []
    for row in rows:
        arm, est = f"coef {row.coef:g}", row.projection
        metrics.append(Metric(step.id, "steered projection", est.value, arm, alias, est.low, est.high, est.n))
        for name, s in row.score_means.items():
            metrics.append(Metric(step.id, f"steered {name}", s.value, arm, alias, s.low, s.high, s.n))
        transcripts += [
            Transcript(
                id=cache_key(step=step.id, steer=row.coef, q=k)[:16], step=step.id, model=alias, arm=f"steer {row.coef:+g}",
                sample=f"steer q{k}", messages=[{"role": "user", "content": q}, {"role": "assistant", "content": t}], output=t,
                scores={"projection": v, **{n: vals[k] for n, vals in row.scores.items()}},
                metadata={"steer_check": True, "coef": row.coef, "layer": layer},
            )
            for k, (q, t, v) in enumerate(zip(questions, row.texts, row.projections))
        ]
    rising = monotonic(rows)
    metrics.append(Metric(step.id, "steer check monotonic", float(rising), model=alias))
    out = ctx.artifact_dir() / "steer_check.json"
    out.write_text(json.dumps({"layer": layer, "coefs": [r.as_dict() for r in rows], "monotonic": rising}, indent=1))
    ctx.store.add_artifact(Artifact(step.id, "steer_check", "table", str(out.relative_to(ctx.run_dir)), {"layer": layer}))
    ctx.store.add_metrics(metrics)
    ctx.store.add_transcripts(transcripts)


def _scorers(spec) -> dict:
    """The spec's programmatic scorers (cheap, judge-free measures of the trait)."""
    if not spec.scorers:
        return {}
    from personascope.judges import get_scorer

    return {name: get_scorer(name) for name in spec.scorers}
