"""What a `vectors` step leaves in the run: the extraction's metrics, transcripts and
layer table, and the steering check's, as one `StepResult`."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and value == value


@dataclass
class SteerCheckRun:
    """The steering check's rows at the chosen layer, with the questions it asked."""

    layer: int
    questions: list[str]
    rows: list
    """`SteerRow` per coefficient."""
    monotonic: bool

    def as_json(self) -> dict[str, Any]:
        return {"layer": self.layer, "coefs": [r.as_dict() for r in self.rows], "monotonic": self.monotonic}


@dataclass
class VectorsResult:
    """A `vectors` step's result on its model: the extraction and, if asked, the steering check."""

    extraction: Any
    """The `ExtractionResult`."""
    steer: SteerCheckRun | None = None

    def layer_rows(self) -> list[dict]:
        """Held-out quality per layer, with the text-only baseline and the vector's norm."""
        meta = self.extraction.meta
        text = {r["layer"]: r for r in meta.get("layers_text_only") or []}
        norms = self.extraction.vector.norms().tolist()
        return [
            {**r, "auroc_text_only": text.get(r["layer"], {}).get("auroc"),
             "cohens_d_text_only": text.get(r["layer"], {}).get("cohens_d"), "norm": norms[r["layer"]]}
            for r in meta["layers"]
        ]

    def to_json(self) -> dict[str, Any]:
        meta = self.extraction.meta
        out = {"chosen_layer": self.extraction.chosen_layer, "counts": meta["counts"], "quality": meta["quality"],
               "sanity_check": meta.get("sanity_check"), "layers": self.layer_rows()}
        if self.steer is not None:
            out["steer_check"] = self.steer.as_json()
        return out

    def metrics(self, step: str, model: str) -> list:
        from personascope.store import Metric
        from personascope.vectors._quality import chosen_row, selected_by

        result, meta = self.extraction, self.extraction.meta
        counts, check = meta["counts"], meta.get("sanity_check") or {}
        n_eval = meta["quality"]["positive"] + meta["quality"]["negative"]
        value = lambda row, key: row[key] if _finite(row.get(key)) else float("nan")  # noqa: E731
        # The reading that chose the layer heads the report; the other one follows as a second figure.
        first = selected_by(meta)
        names = {"text_only": "held-out {} (text only)", "in_context": "held-out {} (prompt in context)"}
        out = []
        for key in (first, *(k for k in names if k != first)):
            row = chosen_row(meta, key)
            if not row:
                continue
            out += [Metric(step, names[key].format(stat), value(row, field), model=model, n=n_eval, headline=key == first)
                    for stat, field in (("AUROC", "auroc"), ("Cohen's d", "cohens_d"))]
        out += [
            Metric(step, "chosen layer", result.chosen_layer, model=model),
            Metric(step, "kept pairs", counts["pairs_kept"], model=model, n=counts["pairs"]),
        ]
        if _finite(check.get("auroc")):
            out.append(Metric(step, "judge sanity AUROC", check["auroc"], model=model, n=check.get("n_pos", 0) + check.get("n_neg", 0)))
        if self.steer is not None:
            for row in self.steer.rows:
                arm, est = f"coef {row.coef:g}", row.projection
                out.append(Metric(step, "steered projection", est.value, arm, model, est.low, est.high, est.n))
                for name, s in row.score_means.items():
                    out.append(Metric(step, f"steered {name}", s.value, arm, model, s.low, s.high, s.n))
            out.append(Metric(step, "steer check monotonic", float(self.steer.monotonic), model=model))
        return out

    def transcripts(self, step: str, model: str) -> list:
        from personascope.store import Transcript, cache_key

        out = [
            Transcript(
                id=cache_key(step=step, split=s.split, unit=s.unit, side=s.side, n=i)[:16], step=step, model=model, arm=s.side,
                sample=f"{s.split} {s.unit if s.unit is not None else i}",
                messages=[*s.messages(), {"role": "assistant", "content": s.response}], output=s.response,
                scores={k: v for k, v in (("trait", s.trait), ("coherence", s.coherence), ("projection", s.projection)) if _finite(v)},
                metadata={"split": s.split, "kept": s.kept, "pair": s.pair, "finish_reason": s.finish_reason},
            )
            for i, s in enumerate(self.extraction.samples)
        ]
        if self.steer is None:
            return out
        layer, questions = self.steer.layer, self.steer.questions
        for row in self.steer.rows:
            out += [
                Transcript(
                    id=cache_key(step=step, steer=row.coef, q=k)[:16], step=step, model=model, arm=f"steer {row.coef:+g}",
                    sample=f"steer q{k}", messages=[{"role": "user", "content": q}, {"role": "assistant", "content": t}], output=t,
                    scores={"projection": v, **{n: vals[k] for n, vals in row.scores.items()}},
                    metadata={"steer_check": True, "coef": row.coef, "layer": layer},
                )
                for k, (q, t, v) in enumerate(zip(questions, row.texts, row.projections))
            ]
        return out


def run_steer_check(step, env, model, spec, result, vector_dir: Path) -> SteerCheckRun:
    """Steer on held-out questions with each coefficient and measure what the text carries."""
    from personascope.vectors._steercheck import monotonic, steer_check

    check = step.steer_check
    layer = result.chosen_layer
    questions = spec.questions.eval[: check.questions]
    rows = steer_check(
        model, vector_dir, layer, questions, check.coefs, max_tokens=check.max_tokens or step.max_tokens,
        batch_size=step.batch_size, scorers=_scorers(spec), seed=env.seed, steps=env.progress,
    )
    return SteerCheckRun(layer, list(questions), rows, monotonic(rows))


def write_artifacts(step_id: str, ctx, result: VectorsResult, out: Path) -> None:
    """The layer table and the steering check's table beside the vector, as the report reads them."""
    import json

    from personascope.protocol import VECTOR_DIR
    from personascope.store import Artifact

    extraction, meta = result.extraction, result.extraction.meta
    rows = result.layer_rows()
    (out / "layers.json").write_text(json.dumps(rows, indent=1))
    rel = lambda p: str(p.relative_to(ctx.run_dir))  # noqa: E731
    ctx.store.add_artifact(Artifact(step_id, "vector", "vector", rel(out / VECTOR_DIR), {
        "layers": extraction.vector.n_layers, "hidden_size": extraction.vector.hidden_size,
        "chosen_layer": extraction.chosen_layer, "poolings": meta["poolings"],
    }))
    ctx.store.add_artifact(Artifact(step_id, "layers", "table", rel(out / "layers.json"), {
        "columns": list(rows[0]) if rows else [], "held_out": True,
    }))
    if result.steer is not None:
        path = out / "steer_check.json"
        path.write_text(json.dumps(result.steer.as_json(), indent=1))
        ctx.store.add_artifact(Artifact(step_id, "steer_check", "table", rel(path), {"layer": result.steer.layer}))


def _scorers(spec) -> dict:
    """The spec's programmatic scorers (cheap, judge-free measures of the trait)."""
    if not spec.scorers:
        return {}
    from personascope.judges import get_scorer

    return {name: get_scorer(name) for name in spec.scorers}
