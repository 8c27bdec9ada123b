"""The reverse Turing test (agenda P3.1): the target interviews K candidates, one of
which is itself under its own system prompt, and must say which one.

    from personascope.conversations import RTTConfig, run_rtt
    result = run_rtt("smollm2", RTTConfig(trials=6, questions=2))
    result.accuracy, result.chance, result.p_value

Per trial the candidates get new letters, the target writes its questions one at a
time (each seeing the interview so far), every candidate answers under its own model
and system prompt seeing only its own earlier answers, and the target names a
letter: read from next-token logprobs on white-box models, parsed on black-box ones.
"""

import functools
import math
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from personascope.protocol import LocalEnv
from personascope.stats import Estimate


@functools.cache
def rtt_data() -> dict:
    """The built-in candidates, prompts and strategies (`conversations/data/rtt.yaml`)."""
    from importlib import resources

    import yaml

    return yaml.safe_load((resources.files("personascope.conversations") / "data" / "rtt.yaml").read_text())


class Candidate(BaseModel):
    """One interviewee."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    """Its name in results (the target only ever sees a letter)."""
    model: str | None = None
    """Its model (a model name, or a study model alias); default: the target's model."""
    system: str | None = None
    """Its system prompt; left out, the target's own ("" for none)."""


def _norm(system: str | None) -> str | None:
    return system or None


class RTTConfig(BaseModel):
    """Who is interviewed, how long, and with which prompts."""

    model_config = ConfigDict(extra="forbid")

    candidates: list[Candidate] = Field(default_factory=lambda: [Candidate(**c) for c in rtt_data()["candidates"]])
    """The interviewees; exactly one (no model, the target's system prompt) is the target itself.
    Default: the target plus a pirate, a 1950s telegraph operator and a child (personas of the target)."""
    questions: int = Field(3, ge=1)
    """Questions the target asks in each trial."""
    trials: int = Field(8, ge=1)
    """Interviews; the twin's letter is spread evenly over them, in a seeded random order."""
    max_tokens: int = Field(48, ge=1)
    """Length of each question and each answer."""
    system: str | None = None
    """The target's own system prompt (and so its twin's)."""
    interviewer: str = Field(default_factory=lambda: rtt_data()["interviewer"])
    """What the target is told first ({k}, {labels}, {n})."""
    ask: str = Field(default_factory=lambda: rtt_data()["ask"])
    """The request for the next question ({interview}, {q}, {n})."""
    verdict: str = Field(default_factory=lambda: rtt_data()["verdict"])
    """The request for a verdict ({transcripts}, {labels})."""
    judge_model: str | None = None
    """A model that also sorts the questions into strategies (besides the keyword classifier)."""
    temperature: float = Field(0.0, ge=0.0)
    batch_size: int = Field(16, ge=1)

    @model_validator(mode="after")
    def _check(self) -> "RTTConfig":
        if not 2 <= len(self.candidates) <= 26:
            raise ValueError(f"the reverse Turing test needs 2 to 26 candidates (the target itself and others), "
                             f"not {len(self.candidates)}")
        names = [c.name for c in self.candidates]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"candidate names must be unique: {', '.join(map(repr, dup))} appears more than once")
        self.twin()
        return self

    def system_of(self, candidate: Candidate) -> str | None:
        return _norm(self.system if candidate.system is None else candidate.system)

    def twin(self) -> int:
        """Index of the candidate that is the target itself."""
        hits = [i for i, c in enumerate(self.candidates) if c.model is None and self.system_of(c) == _norm(self.system)]
        if not hits:
            raise ValueError("no candidate is the target itself: add one with no model and no system prompt "
                             "(it then gets the target's own)")
        if len(hits) > 1:
            raise ValueError(f"candidates {', '.join(repr(self.candidates[i].name) for i in hits)} are all the target "
                             "itself (no model, the target's system prompt): keep one")
        return hits[0]


def fill(template: str, **values: Any) -> str:
    """`{key}` placeholders of the template only: interview text may hold braces."""
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m[1]]) if m[1] in values else m[0], template)


def binomial_p(successes: int, n: int, chance: float) -> float:
    """P(X >= successes) for X ~ Binomial(n, chance): accuracy above chance, one-sided, exact."""
    if successes <= 0:
        return 1.0
    return min(1.0, sum(math.comb(n, i) * chance**i * (1 - chance) ** (n - i) for i in range(successes, n + 1)))


def classify_question(question: str) -> str:
    """The strategy a question uses, by keywords (first match in the built-in order; else "other")."""
    for name, spec in rtt_data()["strategies"].items():
        if any(re.search(rf"\b{p}\b" if p[0].isalpha() else p, question, re.IGNORECASE) for p in spec["patterns"]):
            return name
    return "other"


def strategies() -> list[str]:
    return list(rtt_data()["strategies"])


@dataclass
class Trial:
    """One interview: candidates by letter, the questions, each letter's answers, the verdict."""

    index: int
    order: list[str]
    """Candidate names by letter (A first)."""
    twin: str
    questions: list[str] = field(default_factory=list)
    answers: dict[str, list[str]] = field(default_factory=dict)
    picked: str | None = None
    probs: dict[str, float] | None = None
    method: str = ""
    correct: bool = False
    strategies: list[str] = field(default_factory=list)
    judged: list[str] = field(default_factory=list)
    """Strategies named by the judge model ("unread" where its answer named none)."""


def orders(k: int, twin: int, trials: int, seed: int) -> list[list[int]]:
    """Candidate indices by letter per trial: the twin's letter is as evenly spread as
    `trials` allows (a letter-biased chooser then scores chance), in a shuffled order."""
    rng = random.Random(seed)
    slots = [t % k for t in range(trials)]
    rng.shuffle(slots)
    out = []
    for slot in slots:
        rest = [i for i in range(k) if i != twin]
        rng.shuffle(rest)
        rest.insert(slot, twin)
        out.append(rest)
    return out


def _labels_text(labels: list[str], last: str = "or") -> str:
    return f"{', '.join(labels[:-1])} {last} {labels[-1]}"


def _flat(text: str) -> str:
    return " ".join(text.split())


def _interview(trial: Trial, labels: list[str]) -> str:
    if not trial.questions:
        return "(no questions asked yet)"
    blocks = [f"Question {q + 1}: {_flat(text)}\n" + "\n".join(f"{x}: {_flat(trial.answers[x][q])}" for x in labels)
              for q, text in enumerate(trial.questions)]
    return "\n\n".join(blocks)


def _transcripts(trial: Trial, labels: list[str]) -> str:
    return "\n\n".join(f"Candidate {x}\n" + "\n".join(f"Q{q + 1}: {_flat(text)}\nAnswer: {_flat(trial.answers[x][q])}"
                                                     for q, text in enumerate(trial.questions)) for x in labels)


def _intro(config: RTTConfig, labels: list[str]) -> str:
    return fill(config.interviewer, k=len(labels), labels=_labels_text(labels, "and"), n=config.questions)


def ask_prompt(config: RTTConfig, trial: Trial, labels: list[str]) -> str:
    q = len(trial.questions) + 1
    return _intro(config, labels) + "\n\n" + fill(config.ask, interview=_interview(trial, labels), q=q, n=config.questions)


def verdict_prompt(config: RTTConfig, trial: Trial, labels: list[str]) -> str:
    return _intro(config, labels) + "\n\n" + fill(config.verdict, transcripts=_transcripts(trial, labels),
                                                  labels=_labels_text(labels))


def clean_question(text: str) -> str:
    """The first line of the reply, without a "Question 2:" prefix or quotes."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = re.sub(r"^(\*\*)?(question|q)\s*\d*\s*[:.)-]\s*(\*\*)?\s*", "", line, flags=re.IGNORECASE).strip().strip("\"'“”")
    return line or rtt_data()["fallback_question"]


def _history(system: str | None, questions: list[str], answers: list[str]) -> list[dict]:
    messages = [{"role": "system", "content": system}] if system else []
    for q, a in zip(questions, [*answers, None]):
        messages.append({"role": "user", "content": q})
        if a is not None:
            messages.append({"role": "assistant", "content": a})
    return messages


def _estimate(e: Estimate) -> dict:
    return {"value": e.value, "low": e.low, "high": e.high, "n": e.n}


@dataclass
class RTTResult:
    """The trials and the statistics over them."""

    model: str
    config: RTTConfig
    trials: list[Trial]
    accuracy: Estimate
    chance: float
    p_value: float
    p_twin: Estimate
    """Mean probability the verdict put on the twin's letter."""
    confusion: list[list[int]]
    """Counts by the twin's letter (rows) and the letter picked (columns; a last one for none read)."""
    strategies: dict[str, int]
    judged: dict[str, int] | None = None
    white_box: bool = True
    seconds: float = 0.0

    @classmethod
    def build(cls, model: str, config: RTTConfig, trials: list[Trial], white_box: bool, seed: int, seconds: float):
        from collections import Counter

        from personascope.stats import bootstrap_mean

        k = len(config.candidates)
        labels = [chr(65 + i) for i in range(k)]
        confusion = [[0] * (k + 1) for _ in range(k)]
        for t in trials:
            confusion[labels.index(t.twin)][labels.index(t.picked) if t.picked else k] += 1
        counts = Counter(s for t in trials for s in t.strategies)
        judged = Counter(s for t in trials for s in t.judged) if config.judge_model else None
        order = [*strategies(), "unread"]
        return cls(
            model, config, trials, bootstrap_mean([float(t.correct) for t in trials], seed=seed), 1 / k,
            binomial_p(sum(t.correct for t in trials), len(trials), 1 / k),
            bootstrap_mean([t.probs[t.twin] for t in trials if t.probs], seed=seed), confusion,
            {s: counts[s] for s in order if counts[s]}, judged and {s: judged[s] for s in order if judged[s]},
            white_box, seconds,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": 1, "model": self.model, "config": self.config.model_dump(), "white_box": self.white_box,
            "seconds": self.seconds, "candidates": [c.name for c in self.config.candidates],
            "twin": self.config.candidates[self.config.twin()].name, "accuracy": _estimate(self.accuracy),
            "chance": self.chance, "p_value": self.p_value, "p_twin": _estimate(self.p_twin), "confusion": self.confusion,
            "strategies": self.strategies, "judged": self.judged, "trials": [asdict(t) for t in self.trials],
        }

    def metrics(self, step: str, model: str):
        """Accuracy (headline) against chance, the binomial p-value, p(twin), question counts per strategy."""
        from personascope.store import Metric

        a, p = self.accuracy, self.p_twin
        out = [Metric(step, "accuracy", a.value, "", model, a.low, a.high, a.n, headline=True),
               Metric(step, "chance", self.chance, "", model),
               Metric(step, "p-value (accuracy > chance)", self.p_value, "", model, n=a.n)]
        if p.n:
            out.append(Metric(step, "p(twin)", p.value, "", model, p.low, p.high, p.n))
        out += [Metric(step, f"questions: {s}", n, "", model) for s, n in self.strategies.items()]
        return out

    def transcripts(self, step: str, model: str):
        """One transcript per trial: the verdict prompt and the letter picked."""
        from personascope.store import Transcript

        labels = [chr(65 + i) for i in range(len(self.config.candidates))]
        out = []
        for t in self.trials:
            system = [{"role": "system", "content": self.config.system}] if self.config.system else []
            messages = [*system, {"role": "user", "content": verdict_prompt(self.config, t, labels)},
                        {"role": "assistant", "content": t.picked or ""}]
            scores = {"correct": float(t.correct), **({"p(twin)": t.probs[t.twin]} if t.probs else {})}
            meta = {k: v for k, v in asdict(t).items() if k not in ("index", "probs")}
            out.append(Transcript(id=f"{model}:trial-{t.index + 1}", step=step, messages=messages, output=t.picked or "",
                                  model=model, sample=f"trial {t.index + 1}", scores=scores, metadata=meta))
        return out


def run_rtt(
    model,
    config: RTTConfig | None = None,
    *,
    seed: int = 0,
    cache=None,
    models: Mapping[str, Any] | None = None,
    progress: Callable | None = None,
) -> RTTResult:
    """Interview, judge and summarise (the `rtt` step on one model). `model` is a
    name, a `ModelConfig` or a `Model`; `models` maps candidate (and judge) model
    names to ready `Model`s, other names are opened on the target's cache;
    `progress(description, total)` is a context yielding `advance(n)`."""
    from personascope.conversations._step_rtt import RTTStep
    from personascope.models import get_model

    step = RTTStep(id="rtt", type="rtt", **(config or RTTConfig()).model_dump())
    model = get_model(model, cache=cache)
    return step.execute(model, LocalEnv(seed=seed, cache=model.cache, progress_fn=progress, models=dict(models or {})))


def _read(model, prompts: list[str], labels: list[str], system: str | None, advance) -> list[tuple[dict | None, str]]:
    """Each verdict as a distribution over the letters, and how it was read."""
    if model.white_box:
        rows = model.choice_logprobs(prompts, labels, system=system, progress=advance)
        out = []
        for row in rows:
            top = max(row)
            weights = [math.exp(lp - top) for lp in row]
            out.append(({x: w / sum(weights) for x, w in zip(labels, weights)}, "logprobs"))
        return out
    from personascope.judges._choice import read_choices

    return [(c.probs, c.method) for c in read_choices(model, prompts, labels, system=system, progress=advance)]


def _judge(judge, trials: list[Trial], steps) -> None:
    from personascope.judges import ChoiceJudge

    data = rtt_data()
    options = {name: spec["description"] for name, spec in data["strategies"].items()}
    chooser = ChoiceJudge(judge, data["judge"], options, name="rtt strategy")
    questions = [q for t in trials for q in t.questions]
    with steps("rtt: judging strategies", len(questions)) as advance:
        choices = chooser.classify(["Which strategy does its question use?"] * len(questions), questions, progress=advance)
    it = iter(c.label or "unread" for c in choices)
    for trial in trials:
        trial.judged = [next(it) for _ in trial.questions]
