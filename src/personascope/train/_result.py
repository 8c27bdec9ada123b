"""The `train` step's result: what was trained, monitored and measured."""

from dataclasses import dataclass, field
from typing import Any

from personascope.store import Metric, Transcript

# Monitor quantities kept as metrics: scalars, and the per-name dicts flattened.
_SCALARS = ("loss", "adapter_norm", "update_cosine")
_DICTS = ("scores", "projection", "projection_shift")


@dataclass
class TrainResult:
    arms: dict[str, Any]
    """Each arm's config (context, steering, KL, start, method, args)."""
    models: dict[str, dict[str, str]]
    """{arm: {seed: model name}} (`run:<RUN>/<step>/<arm>/seed<k>/model`)."""
    monitor: dict[str, dict[str, list[dict]]] = field(default_factory=dict)
    """{arm: {seed: checkpoint rows}}."""
    eval: list[dict] = field(default_factory=list)
    """One row per arm, seed, condition and prompt: the reply and its scores."""
    summary: dict[str, Any] = field(default_factory=dict)
    """rates, effects, retention, means, mean effects and shifts from the base model, with CIs."""
    training: dict[str, dict[str, dict]] = field(default_factory=dict)
    """{arm: {seed: {global_step, train_loss, resumed_from}}}."""

    def to_json(self) -> dict[str, Any]:
        return {"arms": self.arms, "models": self.models, "monitor": self.monitor, "eval": self.eval,
                "summary": self.summary, "training": self.training}

    def metrics(self, step: str, model: str) -> list[Metric]:
        out = []
        for r in self.summary.get("rates", []):
            out.append(Metric(step, f"rate/{r['scorer']}@{r['condition']}", r["value"], r["arm"], model,
                              r.get("ci_low"), r.get("ci_high"), r.get("n"), headline=r["condition"] == "none"))
        for r in self.summary.get("effects", []):
            out.append(Metric(step, f"effect/{r['scorer']}@{r['condition']}", r["value"], r["arm"], model,
                              r.get("ci_low"), r.get("ci_high"), headline=True))
        for r in self.summary.get("retention", []):
            out.append(Metric(step, f"retention/{r['scorer']}", r["value"], r["arm"], model, r.get("ci_low"), r.get("ci_high")))
        for r in self.summary.get("means", []):
            out.append(Metric(step, f"mean/{r['measure']}@{r['condition']}", r["value"], r["arm"], model,
                              r.get("ci_low"), r.get("ci_high"), r.get("n")))
        for r in self.summary.get("mean_effects", []):
            out.append(Metric(step, f"mean_effect/{r['measure']}@{r['condition']}", r["value"], r["arm"], model,
                              r.get("ci_low"), r.get("ci_high")))
        for r in self.summary.get("shifts", []):
            out.append(Metric(step, f"shift/{r['measure']}@{r['condition']}", r["value"], r["arm"], model,
                              r.get("ci_low"), r.get("ci_high"), headline=True))
        for arm, seeds in self.monitor.items():
            for seed, rows in seeds.items():
                for row in rows:
                    out += _monitor_metrics(step, model, f"{arm}/seed{seed}", row)
        for arm, seeds in self.training.items():
            for seed, info in seeds.items():
                if info.get("train_loss") is not None:
                    out.append(Metric(step, "train_loss", info["train_loss"], f"{arm}/seed{seed}", model))
        return out

    def transcripts(self, step: str, model: str) -> list[Transcript]:
        out = []
        for row in self.eval:
            arm = f"{row['arm']}/seed{row['seed']}"
            out.append(Transcript(
                id=f"{arm}/{row['condition']}/{row['prompt_id']}", step=step,
                messages=[*row["messages"], {"role": "assistant", "content": row["answer"]}],
                output=row["answer"], model=model, arm=arm, sample=str(row["condition"]),
                scores=dict(row.get("scores") or {}), metadata={"condition": row["condition"], "seed": row["seed"]},
            ))
        return out


def _monitor_metrics(step: str, model: str, arm: str, row: dict) -> list[Metric]:
    at = row.get("global_step")
    out = []
    for name in _SCALARS:
        value = row.get(name)
        if isinstance(value, (int, float)):
            out.append(Metric(step, f"monitor/{name}@{at}", float(value), arm, model))
    for group in _DICTS:
        for key, value in (row.get(group) or {}).items():
            if isinstance(value, (int, float)):
                out.append(Metric(step, f"monitor/{group}/{key}@{at}", float(value), arm, model))
    return out
