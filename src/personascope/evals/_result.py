"""What an eval returns: scored rows per arm, the suite's statistics with bootstrap
CIs, arm-against-arm differences, and the same as run-store rows and JSON."""

from dataclasses import dataclass, field
from typing import Any

from personascope.evals._suite import Row, Stat
from personascope.stats import Estimate, bootstrap_diff, bootstrap_mean


@dataclass
class EvalResult:
    suite: str
    model: str
    options: dict[str, Any]
    rows: dict[str, list[Row]]
    """Scored answers per arm."""
    stats: dict[str, list[Stat]]
    """The suite's statistics per arm."""
    arms: dict[str, dict] = field(default_factory=dict)
    judge_model: str = ""
    seed: int = 0
    warnings: dict[str, list[str]] = field(default_factory=dict)
    """Per arm: why its statistics should not be read at face value (the suite's `warnings`)."""

    def estimates(self, arm: str) -> list[tuple[Stat, Estimate]]:
        """Each statistic of `arm` with its mean and 95% bootstrap CI."""
        return [(s, bootstrap_mean(s.values, seed=self.seed)) for s in self.stats[arm]]

    def differences(self, arm: str, baseline: str) -> list[tuple[str, Estimate]]:
        """`arm` minus `baseline` for every statistic both report (bootstrap CI of the
        difference; the arms' samples are treated as independent)."""
        base = {s.name: s for s in self.stats[baseline]}
        return [
            (s.name, bootstrap_diff(s.values, base[s.name].values, seed=self.seed))
            for s in self.stats[arm]
            if s.name in base
        ]

    def artifact_meta(self) -> dict[str, Any]:
        """What the recorded result's artifact row carries besides its path."""
        return {"suite": self.suite}

    def headline(self, arm: str) -> dict[str, Estimate]:
        return {s.name: e for s, e in self.estimates(arm) if s.headline}

    # -- output ---------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        arms = list(self.rows)
        return {
            "suite": self.suite,
            "model": self.model,
            "judge_model": self.judge_model,
            "options": self.options,
            "arms": self.arms,
            "stats": {
                arm: [
                    {"name": s.name, "value": e.value, "ci_low": e.low, "ci_high": e.high, "n": e.n,
                     "headline": s.headline, "note": s.note}
                    for s, e in self.estimates(arm)
                ]
                for arm in arms
            },
            "warnings": {arm: list(w) for arm, w in self.warnings.items() if w},
            "differences": {
                arm: [{"name": n, "value": e.value, "ci_low": e.low, "ci_high": e.high, "n": e.n} for n, e in self.differences(arm, arms[0])]
                for arm in arms[1:]
            },
        }

    def metrics(self, step: str, model: str | None = None):
        """Run-store metrics: every statistic per arm, and differences against the first arm."""
        from personascope.store import Metric

        model = model or self.model
        arms = list(self.rows)
        out = [
            Metric(step, s.name, e.value, arm, model, e.low, e.high, e.n, headline=s.headline)
            for arm in arms
            for s, e in self.estimates(arm)
        ]
        heads = {s.name for s in self.stats[arms[0]] if s.headline}
        for arm in arms[1:]:
            out += [
                Metric(step, f"{name} - {arms[0]}", e.value, arm, model, e.low, e.high, e.n, headline=name in heads)
                for name, e in self.differences(arm, arms[0])
            ]
        return out

    def transcripts(self, step: str, model: str | None = None):
        """Run-store transcripts: every answer with its scores."""
        from personascope.evals._answer import prompt_messages
        from personascope.protocol import Arm
        from personascope.store import Transcript, cache_key

        model = model or self.model
        out = []
        for arm, rows in self.rows.items():
            arm_spec = Arm(**self.arms.get(arm, {}))
            for row in rows:
                sample = row.item.id if row.sample == 0 else f"{row.item.id}#{row.sample + 1}"
                out.append(
                    Transcript(
                        id=cache_key(step=step, model=model, arm=arm, sample=sample)[:16],
                        step=step, model=model, arm=arm, sample=sample,
                        messages=prompt_messages(row.item, arm_spec) + [{"role": "assistant", "content": row.response.text}],
                        output=row.response.text,
                        scores={k: v for k, v in row.scores.items() if isinstance(v, (int, float)) and not isinstance(v, bool)},
                        metadata={
                            "suite": self.suite, "group": row.item.group, "method": row.response.method,
                            "probs": row.response.probs, "labels": {k: v for k, v in row.scores.items() if isinstance(v, str)},
                            **{f"item_{k}": v for k, v in row.item.meta.items() if isinstance(v, (str, int, float, bool))},
                        },
                    )
                )
        return out

    def table(self, *, title: str | None = None):
        """A rich table: statistics per arm (and differences against the first arm)."""
        return result_table(self.to_json(), title=title)


def result_table(data: dict[str, Any], *, title: str | None = None):
    """The table of an `EvalResult.to_json()` dict (what `personascope eval` prints)."""
    from rich.markup import escape
    from rich.table import Table

    arms = list(data["stats"])
    # Names come from suites, files and users: never rich markup.
    table = Table(title=escape(title or f"{data['suite']} on {data['model']}"), title_justify="left")
    table.add_column("statistic")
    for arm in arms:
        table.add_column(escape(arm), justify="right")
    for arm in arms[1:]:
        table.add_column(escape(f"{arm} - {arms[0]}"), justify="right")
    est = {arm: {r["name"]: r for r in data["stats"][arm]} for arm in arms}
    diffs = {arm: {r["name"]: r for r in data["differences"].get(arm, [])} for arm in arms[1:]}
    for name in dict.fromkeys(n for arm in arms for n in est[arm]):
        head = any(est[a][name]["headline"] for a in arms if name in est[a])
        cells = [f"[bold]{escape(name)}[/bold]" if head else escape(name)]
        cells += [_cell(est[a][name]) if name in est[a] else "" for a in arms]
        cells += [_cell(diffs[a][name], sign=True) if name in diffs[a] else "" for a in arms[1:]]
        table.add_row(*cells)
    return table


def result_warnings(data: dict[str, Any]) -> list:
    """The suite's warnings of an `EvalResult.to_json()` dict, as rich texts to print below its table."""
    from rich.text import Text

    # Text, not markup: warnings quote file and arm names.
    return [Text(f"warning ({arm}): {w}", style="yellow") for arm, ws in (data.get("warnings") or {}).items() for w in ws]


def _cell(row: dict[str, Any], sign: bool = False) -> str:
    import math

    value, low, high = row["value"], row["ci_low"], row["ci_high"]
    if value is None or math.isnan(value):
        return "n/a"
    fmt = "{:+.3g}" if sign else "{:.3g}"
    if low is None or math.isnan(low) or low == high:
        return fmt.format(value) + (f"  (n={row['n']})" if "n" in row else "")
    return f"{fmt.format(value)} [{low:.3g}, {high:.3g}]"
