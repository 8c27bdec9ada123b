"""Per-turn curves, drift slopes and turns-to-threshold from measured dialogues.

Every number at a turn is one value per conversation, so a turn's mean has a
bootstrap CI over conversations; a conversation's drift slope is the least-squares
slope of its values against the turn number (units per turn), and slopes are
averaged over conversations with a bootstrap CI as well.
"""

import math
from collections.abc import Mapping, Sequence

from personascope.conversations._dialogue import Dialogue
from personascope.stats import bootstrap_diff, bootstrap_mean

ALL = "all"
"""The family name under which every family's conversations are pooled."""


def turn_values(dialogue: Dialogue) -> list[dict[str, float]]:
    """Per turn, every measured number by measure name: projections by their label,
    reply scores as `reply SCORER`, probe answers as `PROBE SCORER`."""
    out = []
    for turn in dialogue.turns:
        values = dict(turn.projections)
        values.update({f"reply {k}": v for k, v in turn.scores.items()})
        for name, probe in turn.probes.items():
            values.update({f"{name} {k}": v for k, v in probe["scores"].items()})
        out.append(values)
    return out


def measures(dialogues: Sequence[Dialogue]) -> list[str]:
    """Measure names in first-seen order (projections first, as measured)."""
    seen: dict[str, None] = {}
    for d in dialogues:
        for values in turn_values(d):
            seen.update(dict.fromkeys(values))
    return list(seen)


def series(dialogue: Dialogue, measure: str) -> list[float]:
    return [v.get(measure, math.nan) for v in turn_values(dialogue)]


def slope(values: Sequence[float]) -> float:
    """Least-squares slope of `values` against turns 1, 2, ... (NaN turns left out)."""
    points = [(t + 1, v) for t, v in enumerate(values) if isinstance(v, (int, float)) and math.isfinite(v)]
    if len(points) < 2:
        return math.nan
    mx = sum(t for t, _ in points) / len(points)
    my = sum(v for _, v in points) / len(points)
    sxx = sum((t - mx) ** 2 for t, _ in points)
    return sum((t - mx) * (v - my) for t, v in points) / sxx


def first_crossing(values: Sequence[float], threshold: float, below: bool) -> int | None:
    """The first turn (1-based) whose value is past `threshold`, or None."""
    for t, v in enumerate(values):
        if math.isfinite(v) and (v < threshold if below else v > threshold):
            return t + 1
    return None


def _groups(dialogues: Sequence[Dialogue]) -> dict[str, list[Dialogue]]:
    groups: dict[str, list[Dialogue]] = {}
    for d in dialogues:
        groups.setdefault(d.family, []).append(d)
    if len(groups) > 1:
        groups[ALL] = list(dialogues)
    return groups


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def _est(e) -> dict:
    return {"mean": e.value, "low": e.low, "high": e.high, "n": e.n}


def curves(by_arm: Mapping[str, Sequence[Dialogue]], *, seed: int = 0) -> list[dict]:
    """Rows `{measure, arm, family, turn, mean, low, high, n}`: each turn's mean over conversations."""
    rows = []
    for arm, dialogues in by_arm.items():
        for measure in measures(dialogues):
            for family, group in _groups(dialogues).items():
                per_conv = [series(d, measure) for d in group]
                for t in range(max(len(s) for s in per_conv)):
                    values = _finite([s[t] for s in per_conv if t < len(s)])
                    if values:
                        rows.append({"measure": measure, "arm": arm, "family": family, "turn": t + 1,
                                     **_est(bootstrap_mean(values, seed=seed))})
    return rows


def slopes(by_arm: Mapping[str, Sequence[Dialogue]], *, seed: int = 0) -> list[dict]:
    """Rows `{measure, arm, family, mean, low, high, n}` of drift slopes, plus for every
    arm after the first its difference from the first (`vs` names that arm)."""
    per: dict[tuple[str, str, str], list[float]] = {}
    for arm, dialogues in by_arm.items():
        for measure in measures(dialogues):
            for family, group in _groups(dialogues).items():
                per[(measure, arm, family)] = _finite([slope(series(d, measure)) for d in group])
    rows = []
    first = next(iter(by_arm), None)
    for (measure, arm, family), values in per.items():
        if not values:
            continue
        rows.append({"measure": measure, "arm": arm, "family": family, **_est(bootstrap_mean(values, seed=seed))})
        base = per.get((measure, first, family))
        if arm != first and base:
            rows.append({"measure": measure, "arm": arm, "family": family, "vs": first,
                         **_est(bootstrap_diff(values, base, seed=seed))})
    return rows


def crossings(by_arm: Mapping[str, Sequence[Dialogue]], thresholds: Mapping[str, float], *, seed: int = 0) -> list[dict]:
    """Rows `{measure, arm, family, threshold, direction, crossed, crossed_low, crossed_high,
    turn, n}`: the share of conversations whose measure passed the threshold, and the
    mean first turn among those that did. The direction is away from where the first
    arm starts: `below` when the threshold lies under its first-turn mean."""
    rows = []
    first = next(iter(by_arm), None)
    for measure, threshold in thresholds.items():
        start = _finite([series(d, measure)[0] for d in by_arm.get(first, []) if d.turns])
        below = not start or threshold < sum(start) / len(start)
        for arm, dialogues in by_arm.items():
            for family, group in _groups(dialogues).items():
                hits = [first_crossing(series(d, measure), threshold, below) for d in group]
                if not group or measure not in measures(group):
                    continue
                share = bootstrap_mean([100.0 * (h is not None) for h in hits], seed=seed)
                turns = [h for h in hits if h is not None]
                rows.append({
                    "measure": measure, "arm": arm, "family": family, "threshold": threshold,
                    "direction": "below" if below else "above", "crossed": share.value,
                    "crossed_low": share.low, "crossed_high": share.high,
                    "turn": sum(turns) / len(turns) if turns else None, "n": len(hits),
                })
    return rows
