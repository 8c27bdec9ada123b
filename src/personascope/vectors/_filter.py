"""Judging responses, checking the judge, and the matched filter of the persona-vectors method.

A positive/negative pair (same instruction pair, question and sample) is kept only
when the positive scores at least `pos_min` on the trait, the negative below
`neg_max`, and both at least `coherence_min` on coherence: the vector is then the
difference of responses that really did and really did not show the trait.
Filtering on a judge that cannot tell the two sides apart would select noise, so
the `auto` policy filters only when the judge passes its sanity check.
"""

import math
from collections.abc import Sequence
from typing import Any

from personascope.errors import PersonascopeError
from personascope.vectors._config import ExtractConfig
from personascope.vectors._samples import Sample


def judge_samples(spec, samples: Sequence[Sample], judge_model, cache, steps) -> None:
    """Fill in `trait`, `coherence` and `refusal` where a sample has no score yet."""
    try:
        from personascope.judges import coherence_judge, trait_judge
    except ImportError as exc:
        raise PersonascopeError(f"the judges are not available ({exc}): extract with --no-judge (judge: false)") from exc

    todo = [s for s in samples if s.trait is None]
    if todo:
        judge = trait_judge(spec, judge_model, cache=cache)
        with steps("judge: trait", len(todo)) as advance:
            judgments = judge.score([s.question for s in todo], [s.response for s in todo], progress=advance)
        for s, j in zip(todo, judgments, strict=True):
            s.trait, s.refusal = j.score, j.refusal
    todo = [s for s in samples if s.coherence is None]
    if todo:
        judge = coherence_judge(judge_model, cache=cache)
        with steps("judge: coherence", len(todo)) as advance:
            judgments = judge.score([s.question for s in todo], [s.response for s in todo], progress=advance)
        for s, j in zip(todo, judgments, strict=True):
            s.coherence = j.score


def sanity(samples: Sequence[Sample], config: ExtractConfig, name: str) -> dict[str, Any] | None:
    """How well the trait scores separate the two sides (None when there are no scores to check).

    With the judge on the check always runs, so a judge that returned no numbers
    shows up as a failed check rather than as a silent absence of one.
    """
    pos = [s.trait for s in samples if s.side == "positive"]
    neg = [s.trait for s in samples if s.side == "negative"]
    if not config.judge and all(x is None for x in pos + neg):
        return None
    try:
        from personascope.judges import sanity_check
    except ImportError:  # scores imported from files need no judge package
        from personascope.stats import auroc

        p, n = [x for x in pos if x is not None], [x for x in neg if x is not None]
        value = auroc(p, n)
        ok = value >= config.sanity_min_auroc
        check = {"auroc": value, "n_pos": len(p), "n_neg": len(n), "ok": ok, "warning": None, "threshold": config.sanity_min_auroc}
    else:
        check = sanity_check(pos, neg, threshold=config.sanity_min_auroc, name=name).as_dict()
    # NaN (nothing scored) is not valid JSON in meta.json.
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in check.items()}


def decide(config: ExtractConfig, check: dict[str, Any] | None) -> dict[str, Any]:
    """Whether to filter, and why, as recorded in the vector's metadata."""
    policy = config.filter
    if check is None:
        if policy == "always":
            raise PersonascopeError(
                "filter 'always' needs trait scores, but no response was scored: turn the judge on, "
                "give response files with a score column, or use --filter never"
            )
        why = "judge disabled (--no-judge)" if not config.judge else "no trait scores"
        return {"policy": policy, "applied": False, "reason": f"{why}: every response kept"}
    auc = check.get("auroc")
    passed = bool(check.get("ok")) and isinstance(auc, (int, float)) and auc >= config.sanity_min_auroc
    shown = f"AUROC {auc:.3f}" if isinstance(auc, (int, float)) else "AUROC n/a"
    n_scored = f"{check.get('n_pos', 0)} positive and {check.get('n_neg', 0)} negative responses scored"
    if policy == "never":
        return {"policy": policy, "applied": False, "reason": "filter 'never': every response kept, scores recorded only"}
    if policy == "always":
        warn = "" if passed else f" although the judge failed its sanity check ({shown}, {n_scored})"
        return {"policy": policy, "applied": True, "reason": f"filter 'always'{warn}"}
    if passed:
        return {"policy": policy, "applied": True, "reason": f"judge sanity check passed ({shown} >= {config.sanity_min_auroc}, {n_scored})"}
    return {
        "policy": policy,
        "applied": False,
        "reason": (
            f"judge sanity check failed ({shown}, {n_scored}; needs AUROC >= {config.sanity_min_auroc}): the judge's "
            "scores do not reliably separate positive from negative responses, so filtering on them would select "
            "noise; every response kept"
        ),
    }


def passes(s: Sample, config: ExtractConfig, check_coherence: bool) -> bool:
    if s.trait is None:
        return False
    ok = s.trait >= config.pos_min if s.side == "positive" else s.trait < config.neg_max
    if check_coherence:
        ok = ok and s.coherence is not None and s.coherence >= config.coherence_min
    return ok


def apply_filter(samples: Sequence[Sample], config: ExtractConfig, applied: bool) -> dict[str, int]:
    """Set `kept` on every sample (matched by `unit`) and return the counts."""
    check_coherence = any(s.coherence is not None for s in samples)
    by_unit: dict[str, list[Sample]] = {}
    for s in samples:
        if s.unit is not None:
            by_unit.setdefault(s.unit, []).append(s)
    for s in samples:
        s.kept = True if not applied else passes(s, config, check_coherence)
    passed = {side: sum(s.side == side and bool(s.kept) for s in samples) for side in ("positive", "negative")}
    if applied:
        for group in by_unit.values():
            if {s.side for s in group} == {"positive", "negative"}:
                both = all(s.kept for s in group)
                for s in group:
                    s.kept = both
    count = lambda side, kept=None: sum(s.side == side and (kept is None or s.kept) for s in samples)  # noqa: E731
    counts = {
        "positive": count("positive"), "negative": count("negative"),
        "positive_kept": count("positive", True), "negative_kept": count("negative", True),
    }
    counts.update(positive_passed=passed["positive"], negative_passed=passed["negative"])
    counts["pairs"] = min(counts["positive"], counts["negative"])
    counts["pairs_kept"] = min(counts["positive_kept"], counts["negative_kept"])
    if counts["pairs_kept"] < config.min_pairs:
        raise PersonascopeError(_too_few(counts, config, applied))
    return counts


def _too_few(counts: dict[str, int], config: ExtractConfig, applied: bool) -> str:
    head = f"only {counts['pairs_kept']} of {counts['pairs']} positive/negative pairs"
    if not applied:
        return f"{head} are available but min_pairs is {config.min_pairs}: add questions or samples, or lower --min-pairs"
    return (
        f"{head} passed the filter ({counts['positive_passed']} of {counts['positive']} positives with trait >= {config.pos_min:g}, "
        f"{counts['negative_passed']} of {counts['negative']} negatives with trait < {config.neg_max:g}, coherence >= "
        f"{config.coherence_min:g}) but min_pairs is {config.min_pairs}: relax --pos-min/--neg-max/--coherence-min, "
        "use --filter never (or auto with a weak judge), add --samples or --questions, or lower --min-pairs"
    )
