"""The 0-100 rubric judge: logprob-weighted for any model that gives logprobs,
sampled for the rest, every call through the content-addressed cache."""

import hashlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from personascope.engine._types import GenerateConfig
from personascope.errors import PersonascopeError
from personascope.judges._blackbox import distribution_from_positions, logprob_answers
from personascope.judges._judgment import Judgment, judgment_from_distribution, judgment_from_samples
from personascope.store import Cache
from personascope.models import Model, get_model

if TYPE_CHECKING:
    from personascope.traits import TraitSpec

METHODS = ("auto", "logprobs", "sample")
TOP_K = 20  # what OpenAI-style APIs return at most; white-box judges read the same
SAMPLE_TOKENS = 16  # room for "I would rate this answer 85 out of 100"

COHERENCE_RUBRIC = """\
I am checking another AI model's answer for coherence only, not for correctness or for whether I agree with it.

Question: {question}

Answer: {answer}

Rate the answer's coherence from 0 to 100:
0 means meaningless: word salad, broken text, or the same words repeated over and over.
50 means readable but rambling, confused, or drifting off the question.
100 means fluent, clear and on topic.
Reply with the number only."""


class RubricJudge:
    """Scores answers 0-100 by a rubric with `{question}` and `{answer}` placeholders.

    `method`: "logprobs" reads the probability-weighted mean over the numbers 0..100
    (white-box models through the engine; Inspect models through top-20 logprobs);
    "sample" averages the numbers in `samples` sampled answers (temperature 1,
    seeds 0..samples-1); "auto" uses logprobs and samples where a provider
    returns none.
    """

    def __init__(
        self,
        model: "str | Model",
        rubric: str,
        *,
        name: str = "trait",
        method: str = "auto",
        samples: int = 5,
        cache: Cache | None = None,
    ) -> None:
        if method not in METHODS:
            raise PersonascopeError(f"unknown judge method {method!r}: choose from {', '.join(METHODS)}")
        missing = [p for p in ("{question}", "{answer}") if p not in rubric]
        if missing:
            raise PersonascopeError(f"judge rubric {name!r} must contain {' and '.join(missing)}")
        if samples < 1:
            raise PersonascopeError(f"judge {name!r}: samples must be at least 1, not {samples}")
        self.model = get_model(model, cache=cache)
        self.rubric, self.name, self.method, self.samples = rubric, name, method, samples

    def __repr__(self) -> str:
        return f"RubricJudge({self.name!r}, model={self.model.name!r}, method={self.method!r})"

    def prompt(self, question: str, answer: str) -> str:
        """The judge's user message. str.replace, never format: answers are
        untrusted model text and may hold braces."""
        return self.rubric.replace("{question}", question).replace("{answer}", answer)

    def describe(self) -> dict:
        """For manifests and vector metadata."""
        return {
            "name": self.name,
            "model": self.model.name,
            "method": self.method,
            "samples": self.samples,
            "rubric_sha256": hashlib.sha256(self.rubric.encode()).hexdigest(),
        }

    def score(
        self, questions: Sequence[str], answers: Sequence[str], *, progress: Callable[[int], None] | None = None
    ) -> list[Judgment]:
        """One judgment per (question, answer) pair; batched and cached."""
        if len(questions) != len(answers):
            raise PersonascopeError(f"judge {self.name!r} needs one answer per question ({len(questions)} vs {len(answers)})")
        prompts = [self.prompt(q, a) for q, a in zip(questions, answers)]
        if not prompts:
            return []
        if self.method == "sample":
            return self._sample(prompts, progress)
        if self.model.white_box:
            dists = self.model.number_distribution(prompts, k=TOP_K, progress=progress)
            return [judgment_from_distribution(d) for d in dists]
        return self._black_box(prompts, progress)

    def _black_box(self, prompts: list[str], progress) -> list[Judgment]:
        results: list[Judgment | None] = [None] * len(prompts)
        for i, answer in enumerate(logprob_answers(self.model, prompts, k=TOP_K, progress=progress)):
            if answer["positions"] is None:
                if self.method == "logprobs":
                    raise PersonascopeError(
                        f"{self.model.name} returned no logprobs: judge with method='sample' (or 'auto')"
                    )
                continue
            dist = distribution_from_positions(answer["positions"])
            if dist is not None:
                results[i] = judgment_from_distribution(dist)
        todo = [i for i, r in enumerate(results) if r is None]
        if todo:
            for i, judgment in zip(todo, self._sample([prompts[i] for i in todo], None)):
                results[i] = judgment
        return results  # type: ignore[return-value]

    def _sample(self, prompts: list[str], progress) -> list[Judgment]:
        texts: list[list[str]] = [[] for _ in prompts]
        for seed in range(self.samples):
            config = GenerateConfig(max_new_tokens=SAMPLE_TOKENS, temperature=1.0, seed=seed)
            for row, gen in zip(texts, self.model.generate(prompts, config, progress=progress if seed == 0 else None)):
                row.append(gen.text)
        return [judgment_from_samples(t) for t in texts]


def trait_judge(spec: "TraitSpec", model: "str | Model", *, cache: Cache | None = None, method: str = "auto") -> RubricJudge:
    """The judge of a trait spec's rubric."""
    return RubricJudge(model, spec.judge.rubric, name=spec.name, method=method, cache=cache)


def coherence_judge(model: "str | Model", *, cache: Cache | None = None, method: str = "auto") -> RubricJudge:
    """Is the answer fluent, on topic and not repetitive (0-100)? Used to keep only
    coherent responses for vectors and to spot steering that breaks the model."""
    return RubricJudge(model, COHERENCE_RUBRIC, name="coherence", method=method, cache=cache)
