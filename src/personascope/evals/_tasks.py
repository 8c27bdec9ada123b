"""The suites as Inspect tasks: `inspect eval personascope/<suite> --model <any>`.

Each task builds its dataset from the suite's items, answers them (choice items
with top-20 logprobs), and scores every sample with the suite's own `score`,
judging through Inspect (`judge_model`, default the model under evaluation). The
per-answer scores sit in each score's metadata and their means are the task's
metrics; the suite-level statistics with bootstrap CIs (distributions, consistency, gaps) are
what `personascope eval` prints from the same items and scorers.
"""

import math
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser, GenerateConfig, Model, get_model
from inspect_ai.scorer import Metric, SampleScore, Score, Target, metric, scorer
from inspect_ai.solver import Generate, TaskState, solver

from personascope.evals._suite import Item, Response, Suite, get_suite

_KINDS = {"system": ChatMessageSystem, "user": ChatMessageUser, "assistant": ChatMessageAssistant}
CHOICE_TOKENS = 6


def suite_task(
    name: str, *, limit: int | None = None, judge_model: str | None = None, system: str | None = None, **options: Any
) -> Task:
    """An Inspect task for suite `name` (options as the suite's `-T` arguments)."""
    suite = get_suite(name)
    opts = suite.options(options)
    items = suite.select(suite.items(opts), int(limit) if limit is not None else None)
    samples = [
        Sample(input=_messages(item, system), id=item.id, metadata={"group": item.group, "index": i})
        for i, item in enumerate(items)
    ]
    return Task(
        dataset=MemoryDataset(samples, name=f"personascope-{suite.name}"),
        solver=_answer(suite, items),
        scorer=_suite_scorer(suite, opts, items, judge_model),
        name=suite.name,
    )


def _messages(item: Item, system: str | None) -> list:
    from personascope.engine._chat import to_messages

    messages = to_messages(item.input)
    system = system if system is not None else item.system
    if system is not None:
        messages = [{"role": "system", "content": system}] + [m for m in messages if m["role"] != "system"]
    return [_KINDS[m["role"]](content=m["content"]) for m in messages]


@solver
def _answer(suite: Suite, items: list[Item]):
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        item = items[state.metadata["index"]]
        if item.continuations:
            state.metadata["loglikelihoods"] = await _loglikelihoods(item)
            return state
        if item.choices:
            return await generate(state, max_tokens=CHOICE_TOKENS, temperature=0.0, logprobs=True, top_logprobs=20)
        return await generate(state, max_tokens=item.max_tokens or suite.max_tokens)

    return solve


@metric
def score_means() -> Metric:
    """The mean of every numeric per-answer score over the samples that have it
    (suites' scores differ between items, e.g. choice and open items, so they are
    read from the score metadata rather than from a fixed value dict)."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        sums: dict[str, list[float]] = {}
        for s in scores:
            for k, v in ((s.score.metadata or {}).get("scores") or {}).items():
                if _number(v):
                    sums.setdefault(k, []).append(float(v))
        return {k: sum(v) / len(v) for k, v in sums.items()}

    return compute


@scorer(metrics=[score_means()], name="personascope_suite")
def _suite_scorer(suite: Suite, opts, items: list[Item], judge_model: str | None):
    async def score(state: TaskState, target: Target) -> Score:
        item = items[state.metadata["index"]]
        response = _response(item, state)
        judge = get_model(judge_model) if judge_model else get_model()
        judged = {}
        for spec in suite.judges(opts):
            if spec.applies(item) and response.method != "failed":
                judged[spec.name] = await _judge(judge, spec, item.question, suite.judged_text(item, response))
        scores = suite.score(item, response, judged, opts)
        return Score(
            value=1.0 if response.method != "failed" else 0.0,  # read; the scores are in metadata
            answer=response.text,
            metadata={"scores": scores, "probs": response.probs, "method": response.method, "group": item.group},
        )

    return score


async def _loglikelihoods(item: Item) -> list[float]:
    """Each continuation's total log-likelihood after the item's raw text, from a
    provider that offers them (`personascope/<model>`); Inspect's chat providers do not."""
    from personascope.errors import PersonascopeError

    model = get_model()
    score = getattr(model.api, "loglikelihood", None)
    if score is None:
        raise PersonascopeError(
            f"{model.name} gives no log-likelihoods of raw text, which these items need (format lm-eval): run them on "
            "a white-box model, --model personascope/smollm2 or personascope/hf/<path>, or use format chat"
        )
    scored = await score([item.input] * len(item.continuations), list(item.continuations))
    return [sum(s.logprobs) for s in scored]


def _response(item: Item, state: TaskState) -> Response:
    from personascope.judges._choice import choice_from_top, parse_choice

    lls = state.metadata.get("loglikelihoods")
    if item.continuations and lls:
        top = max(lls)
        weights = [math.exp(v - top) for v in lls]
        probs = {k: w / sum(weights) for k, w in zip(item.choices, weights)}
        return Response(item.continuations[lls.index(top)], probs, method="loglikelihood")
    text = state.output.completion if state.output else ""
    if not item.choices:
        return Response(text)
    first = _first_top(state.output)
    if first:
        choice = choice_from_top(first, item.choices)
        if choice.probs is not None:
            return Response(text, choice.probs, method="logprobs")
    choice = parse_choice(text, item.choices)
    return Response(text, choice.probs, method="parsed" if choice.probs else "failed")


def _first_top(output) -> list[tuple[str, float]] | None:
    logprobs = output.choices[0].logprobs if output and output.choices else None
    if logprobs is None or not logprobs.content or not logprobs.content[0].top_logprobs:
        return None
    return [(t.token, t.logprob) for t in logprobs.content[0].top_logprobs]


async def _judge(model: Model, spec, question: str, answer: str):
    """The suite's judge through Inspect: logprobs when the provider returns them,
    else the parsed greedy answer (rubric judges: five sampled answers)."""
    from personascope.judges._blackbox import distribution_from_positions
    from personascope.judges._choice import choice_from_top, choice_prompt, letters, parse_choice
    from personascope.judges._judgment import judgment_from_distribution, judgment_from_samples

    if spec.options:
        labels = letters(len(spec.options))
        prompt = choice_prompt(spec.rubric, spec.options, question, answer)
        out = await model.generate([ChatMessageUser(content=prompt)], config=GenerateConfig(
            max_tokens=CHOICE_TOKENS, temperature=0.0, logprobs=True, top_logprobs=20))
        first = _first_top(out)
        choice = choice_from_top(first, labels) if first else None
        if choice is None or choice.probs is None:
            choice = parse_choice(out.completion, labels)
        names = dict(zip(labels, spec.options))
        choice.probs = {names[k]: v for k, v in choice.probs.items()} if choice.probs else None
        return choice
    prompt = spec.rubric.replace("{question}", question).replace("{answer}", answer)
    out = await model.generate([ChatMessageUser(content=prompt)], config=GenerateConfig(
        max_tokens=6, temperature=0.0, logprobs=True, top_logprobs=20))
    logprobs = out.choices[0].logprobs if out.choices else None
    if logprobs is not None and logprobs.content and all(x.top_logprobs for x in logprobs.content):
        positions = [
            {"token": x.token, "logprob": x.logprob, "top": [[t.token, t.logprob] for t in x.top_logprobs]}
            for x in logprobs.content
        ]
        dist = distribution_from_positions(positions)
        if dist is not None:
            return judgment_from_distribution(dist)
    texts = []
    for seed in range(5):
        sampled = await model.generate([ChatMessageUser(content=prompt)], config=GenerateConfig(max_tokens=16, temperature=1.0, seed=seed))
        texts.append(sampled.completion)
    return judgment_from_samples(texts)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# One registered task per suite; `-T name=value` arguments become suite options.
@task(name="trait")
def trait(limit: int | None = None, judge_model: str | None = None, system: str | None = None, **options: Any) -> Task:
    return suite_task("trait", limit=limit, judge_model=judge_model, system=system, **options)


@task(name="misalignment")
def misalignment(limit: int | None = None, judge_model: str | None = None, system: str | None = None, **options: Any) -> Task:
    return suite_task("misalignment", limit=limit, judge_model=judge_model, system=system, **options)


@task(name="self-identity")
def self_identity(limit: int | None = None, judge_model: str | None = None, system: str | None = None, **options: Any) -> Task:
    return suite_task("self-identity", limit=limit, judge_model=judge_model, system=system, **options)


@task(name="distress")
def distress(limit: int | None = None, judge_model: str | None = None, system: str | None = None, **options: Any) -> Task:
    return suite_task("distress", limit=limit, judge_model=judge_model, system=system, **options)


@task(name="psychometrics")
def psychometrics(limit: int | None = None, judge_model: str | None = None, system: str | None = None, **options: Any) -> Task:
    return suite_task("psychometrics", limit=limit, judge_model=judge_model, system=system, **options)


@task(name="mwe")
def mwe(limit: int | None = None, judge_model: str | None = None, system: str | None = None, **options: Any) -> Task:
    return suite_task("mwe", limit=limit, judge_model=judge_model, system=system, **options)
