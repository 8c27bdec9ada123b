"""How an eval answers and judges: items to prompts, batched generation and choice
reading per arm, and judging with the unsteered judge model.

Generated items go through `Model.generate` (batched, resumable, steerable);
choice items are read from next-token probabilities (white-box models: the exact
log-probability of each label under the arm's interventions; Inspect models: top-20
logprobs, or the parsed answer where a provider gives none)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from personascope.engine._chat import to_messages
from personascope.errors import PersonascopeError
from personascope.evals._suite import Item, Judge, Response, Suite
from personascope.protocol import Arm

if TYPE_CHECKING:
    from personascope.models import Model

Progress = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]


def check_ids(suite: Suite, items: Sequence[Item]) -> None:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise PersonascopeError(f"suite {suite.name!r}: item id {item.id!r} appears twice; ids must be unique")
        seen.add(item.id)


def prompt_messages(item: Item, arm: Arm, prefix: Sequence[dict] = ()) -> list[dict]:
    """The messages an item is asked with in `arm`: `prefix`, then the item; the arm's
    (else the item's) system prompt replaces any system message."""
    system = arm.system if arm.system is not None else item.system
    messages = [dict(m) for m in prefix] + to_messages(item.input)
    if system is not None:
        messages = [m for m in messages if m["role"] != "system"]
        messages.insert(0, {"role": "system", "content": system})
    return messages


def answer(model: Model, items: list[Item], arm: Arm, config, show: Progress, label: str,
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
            gens = model.generate([prompt_messages(items[i], arm, prefix) for i in idx], cfg, interventions=specs, progress=advance)
        for i, g in zip(idx, gens):
            out[i] = Response(g.text)
    # Raw-text items: continuation log-likelihoods, no chat template.
    raw = [i for i, item in enumerate(items) if item.continuations]
    if raw:
        with show(f"{label}: scoring continuations", len(raw)) as advance:
            for i, r in zip(raw, _continuations(model, [items[i] for i in raw], arm, prefix, specs, advance)):
                out[i] = r
    # Choice items, grouped by their label set.
    by_labels: dict[tuple[str, ...], list[int]] = {}
    for i, item in enumerate(items):
        if item.choices and not item.continuations:
            by_labels.setdefault(tuple(item.choices), []).append(i)
    for labels, idx in by_labels.items():
        prompts = [prompt_messages(items[i], arm, prefix) for i in idx]
        with show(f"{label}: choosing", len(idx)) as advance:
            responses = _choose(model, prompts, labels, specs, advance)
        for i, r in zip(idx, responses):
            out[i] = r
    return out  # type: ignore[return-value]


def _continuations(model: Model, items: list[Item], arm: Arm, prefix, specs, advance) -> list[Response]:
    """Each item's choices as the log-likelihoods of its continuations after its raw
    text; probabilities are their softmax over the item's choices."""
    if not isinstance(items[0].input, str) or any(not isinstance(i.input, str) for i in items):
        raise PersonascopeError("items with continuations need a text input, not a conversation")
    if arm.system is not None or prefix or any(i.system is not None for i in items):
        raise PersonascopeError(
            "these items are raw text scored without a chat template: a system prompt or prefix has no place in "
            "them (fix: drop --system/system/prefix, or ask the items in chat form)"
        )
    if not model.white_box:
        raise PersonascopeError(
            f"{model.name} is a black-box model: scoring raw continuations needs log-likelihoods, which only "
            "white-box models give (fix: use smollm2 or hf/<path>, or ask the items in chat form)"
        )
    contexts = [i.input for i in items for _ in i.continuations]
    conts = [c for i in items for c in i.continuations]
    scored = iter(model.loglikelihood(contexts, conts, interventions=specs))
    out = []
    for item in items:
        lls = [next(scored).total for _ in item.continuations]
        top = max(lls)
        weights = [math.exp(lp - top) for lp in lls]
        probs = {lab: w / sum(weights) for lab, w in zip(item.choices, weights)}
        # The text is the winning continuation; a tie goes to the first, as numpy's argmax does.
        out.append(Response(item.continuations[lls.index(top)], probs, method="loglikelihood"))
        advance(1)
    return out


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


def judge(
    model: Model, judges: list[Judge], items: list[Item], texts: list[str], failed: list[bool], show: Progress, label: str
) -> list[dict[str, Any]]:
    from personascope import registry

    judged: list[dict[str, Any]] = [{} for _ in items]
    for spec in judges:
        idx = [i for i, item in enumerate(items) if spec.applies(item) and not failed[i]]
        if not idx:
            continue
        questions = [items[i].question for i in idx]
        answers = [texts[i] for i in idx]
        with show(f"{label}: judge {spec.name}", len(idx)) as advance:
            # Judge kinds come from the registry, so a plugin may replace how either is read.
            if spec.options:
                chooser = registry.get("judge", "choice")(model, spec.rubric, spec.options, name=spec.name)
                results = chooser.classify(questions, answers, progress=advance)
            elif spec.label:
                labeller = registry.get("judge", "label")(model, spec.rubric, name=spec.name)
                results = labeller.classify(questions, answers, progress=advance)
            else:
                results = registry.get("judge", "rubric")(model, spec.rubric, name=spec.name).score(questions, answers, progress=advance)
        for i, result in zip(idx, results):
            judged[i][spec.name] = result
    return judged
