"""Judges: the logprob-weighted 0-100 rubric judge, the coherence judge,
programmatic scorers and the judge sanity check.

    judge = trait_judge(spec, "smollm2")
    pos = judge.score(questions, pos_answers)
    neg = judge.score(questions, neg_answers)
    check = sanity_check([j.score for j in pos], [j.score for j in neg], name=spec.name)

See docs/judges.md for the method and what a small judge is worth.
"""

from personascope.engine._numbers import NumberDistribution
from personascope.judges._choice import ChoiceJudge
from personascope.judges._judgment import (
    MIN_NUMBER_MASS,
    Judgment,
    judgment_from_distribution,
    judgment_from_samples,
    parse_score,
)
from personascope.judges._rubric import COHERENCE_RUBRIC, METHODS, RubricJudge, coherence_judge, trait_judge
from personascope.judges._sanity import SanityCheck, sanity_check
from personascope.judges._scorers import Scorer, get_scorer, scorer, scorers

__all__ = [
    "COHERENCE_RUBRIC",
    "ChoiceJudge",
    "METHODS",
    "MIN_NUMBER_MASS",
    "Judgment",
    "NumberDistribution",
    "RubricJudge",
    "SanityCheck",
    "Scorer",
    "coherence_judge",
    "get_scorer",
    "judgment_from_distribution",
    "judgment_from_samples",
    "parse_score",
    "sanity_check",
    "scorer",
    "scorers",
    "trait_judge",
]
