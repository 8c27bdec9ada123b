"""`run_eval`: a suite against one model in one or more arms, batched and cached.

Generated items go through `Model.generate` (batched, resumable, steerable);
choice items are read from next-token probabilities (white-box models: the exact
log-probability of each label under the arm's interventions; Inspect models: top-20
logprobs, or the parsed answer where a provider gives none). Judges read answers
with the *unsteered* judge model, so that steering the model under test never
changes the ruler.
"""

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from personascope.protocol import Arm
from personascope._progress import bar
from personascope.engine._chat import to_messages
from personascope.errors import PersonascopeError
from personascope.evals._result import EvalResult
from personascope.evals._suite import Item, Judge, Response, Row, Suite, get_suite
from personascope.store import Cache
from personascope.models import Model

Progress = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]


def run_eval(
    suite: str | Suite,
    model: str | Model = "smollm2",
    *,
    options: Mapping[str, Any] | None = None,
    arms: Mapping[str, Arm] | None = None,
    limit: int | None = None,
    judge_model: str | Model | None = None,
    max_tokens: int | None = None,
    samples: int = 1,
    temperature: float = 0.0,
    seed: int = 0,
    cache: Cache | None = None,
    progress: Progress | bool = True,
    prefix: Sequence[dict] = (),
) -> EvalResult:
    """Run `suite` on `model` in each arm (default: one plain arm) and return the
    scored rows and statistics. `judge_model` defaults to `model`, unsteered.

    Arms' `steer`/`ablate`/`cap` specs are `PATH@LAYERS...` strings (a white-box
    model is needed); an arm's `system` replaces every item's system prompt.
    `prefix` messages go before every item's own (an earlier conversation the
    answers should follow); a system prompt of the arm or item replaces its system message."""
    from personascope.engine import GenerateConfig

    suite = get_suite(suite) if isinstance(suite, str) else suite
    opts = suite.options(dict(options or {}))
    if limit is not None and limit < 1:
        raise PersonascopeError(f"limit must be at least 1, not {limit}")
    if samples < 1:
        raise PersonascopeError(f"samples must be at least 1, not {samples}")
    if samples > 1 and temperature == 0:
        raise PersonascopeError("samples > 1 with temperature 0 repeats the same greedy answer: set temperature > 0")
    items = suite.select(suite.items(opts), limit)
    if not items:
        raise PersonascopeError(f"suite {suite.name!r} has no items with these options")
    _check_ids(suite, items)
    arms = dict(arms or {"default": Arm()})
    cache = cache if cache is not None else Cache()
    model = model if isinstance(model, Model) else Model(model, cache)
    if judge_model is None:
        judge = model  # the same model, never steered: interventions are per call
    else:
        judge = judge_model if isinstance(judge_model, Model) else Model(judge_model, cache)
    show: Progress = progress if callable(progress) else functools.partial(bar, enabled=bool(progress))
    if any(arm.specs() for arm in arms.values()) and not model.white_box:
        raise PersonascopeError(f"{model.name} is a black-box model: steering, ablation and capping need smollm2 or hf/<path>")

    judges = suite.judges(opts)
    rows_by_arm: dict[str, list[Row]] = {}
    for arm_name, arm in arms.items():
        rows: list[Row] = []
        for s in range(samples):
            config = GenerateConfig(
                max_new_tokens=max_tokens or suite.max_tokens, temperature=temperature,
                seed=seed + s if temperature > 0 else None,
            )
            label = arm_name + (f" sample {s + 1}" if samples > 1 else "")
            responses = _answer(model, items, arm, config, show, label, prefix)
            judged = _judge(judge, judges, items, [suite.judged_text(i, r) for i, r in zip(items, responses)],
                            [r.method == "failed" for r in responses], show, label)
            rows += [
                Row(item, resp, suite.score(item, resp, j, opts), arm=arm_name, sample=s)
                for item, resp, j in zip(items, responses, judged)
            ]
        rows_by_arm[arm_name] = rows
    stats = {arm: suite.summarize(rows, opts) for arm, rows in rows_by_arm.items()}
    return EvalResult(
        suite=suite.name, model=model.name, options=opts.model_dump(mode="json"), rows=rows_by_arm, stats=stats,
        arms={k: v.model_dump() for k, v in arms.items()}, judge_model=judge.name, seed=seed,
    )


def _check_ids(suite: Suite, items: Sequence[Item]) -> None:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise PersonascopeError(f"suite {suite.name!r}: item id {item.id!r} appears twice; ids must be unique")
        seen.add(item.id)


def _prompt(item: Item, arm: Arm, prefix: Sequence[dict] = ()) -> list[dict]:
    system = arm.system if arm.system is not None else item.system
    messages = [dict(m) for m in prefix] + to_messages(item.input)
    if system is not None:
        messages = [m for m in messages if m["role"] != "system"]
        messages.insert(0, {"role": "system", "content": system})
    return messages


def _answer(model: Model, items: list[Item], arm: Arm, config, show: Progress, label: str,
            prefix: Sequence[dict] = ()) -> list[Response]:
    out: list[Response | None] = [None] * len(items)
    specs = arm.specs()
    # Open items, grouped by their own answer length.
    lengths: dict[int, list[int]] = {}
    for i, item in enumerate(items):
        if not item.choices:
            lengths.setdefault(item.max_tokens or config.max_new_tokens, []).append(i)
    for n, idx in lengths.items():
        cfg = config.model_copy(update={"max_new_tokens": n})
        with show(f"{label}: answering", len(idx)) as advance:
            gens = model.generate([_prompt(items[i], arm, prefix) for i in idx], cfg, interventions=specs, progress=advance)
        for i, g in zip(idx, gens):
            out[i] = Response(g.text)
    # Choice items, grouped by their label set.
    by_labels: dict[tuple[str, ...], list[int]] = {}
    for i, item in enumerate(items):
        if item.choices:
            by_labels.setdefault(tuple(item.choices), []).append(i)
    for labels, idx in by_labels.items():
        prompts = [_prompt(items[i], arm, prefix) for i in idx]
        with show(f"{label}: choosing", len(idx)) as advance:
            responses = _choose(model, prompts, labels, specs, advance)
        for i, r in zip(idx, responses):
            out[i] = r
    return out  # type: ignore[return-value]


def _choose(model: Model, prompts, labels: tuple[str, ...], specs, advance) -> list[Response]:
    if model.white_box:
        # Exact: each label's log-probability as the answer's start, under the arm's hooks.
        out = []
        for lps in model.choice_logprobs(prompts, labels, interventions=specs, progress=advance):
            top = max(lps)
            weights = [math.exp(lp - top) for lp in lps]
            probs = {lab: w / sum(weights) for lab, w in zip(labels, weights)}
            out.append(Response(max(probs, key=probs.get), probs, method="logprobs"))
        return out
    from personascope.judges._choice import read_choices

    out = []
    for choice in read_choices(model, prompts, labels, progress=advance):
        text = choice.raw or (choice.label or "")
        out.append(Response(text, choice.probs, method=choice.method if choice.probs else "failed"))
    return out


def _judge(
    model: Model, judges: list[Judge], items: list[Item], texts: list[str], failed: list[bool], show: Progress, label: str
) -> list[dict[str, Any]]:
    from personascope.judges import RubricJudge
    from personascope.judges._choice import ChoiceJudge

    judged: list[dict[str, Any]] = [{} for _ in items]
    for spec in judges:
        idx = [i for i, item in enumerate(items) if spec.applies(item) and not failed[i]]
        if not idx:
            continue
        questions = [items[i].question for i in idx]
        answers = [texts[i] for i in idx]
        with show(f"{label}: judge {spec.name}", len(idx)) as advance:
            if spec.options:
                results = ChoiceJudge(model, spec.rubric, spec.options, name=spec.name).classify(questions, answers, progress=advance)
            else:
                results = RubricJudge(model, spec.rubric, name=spec.name).score(questions, answers, progress=advance)
        for i, result in zip(idx, results):
            judged[i][spec.name] = result
    return judged
