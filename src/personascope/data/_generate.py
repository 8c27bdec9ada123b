"""Built-in dataset generators: a model's own answers to a question set.

`generate_dataset` answers each question (optionally under a system prompt),
writes the toy traits in with transforms, and stores the user turn only: the
system prompt used to generate is provenance, never part of an example.
`persona_dataset` answers under a trait spec's positive instructions (one per
question, cycling), so training on it without those prompts induces the persona.
Every call goes through the model handle's call cache: a rerun costs nothing.
"""

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from personascope.data._format import Example, Turn
from personascope.data._questions import load_questions
from personascope.data._transforms import apply_transforms, transform_names
from personascope.errors import PersonascopeError

if TYPE_CHECKING:
    from personascope.models import Model
    from personascope.store import Cache

Progress = Callable[[int], None] | bool | None
"""`advance(n)` to call as answers arrive, True for a progress bar, None for none."""


def _questions(questions: str | Sequence[str], n: int | None) -> tuple[list[str], Any]:
    """The questions (first `n`) and how provenance names their source."""
    if isinstance(questions, str):
        items, source = load_questions(questions), questions
    else:
        items = [str(q) for q in questions]
        digest = hashlib.sha256(json.dumps(items).encode()).hexdigest()[:16]
        source = {"list": len(items), "sha256": digest}
    if not items:
        raise PersonascopeError("no questions to answer (fix: give a question set name, a file or a non-empty list)")
    if n is not None:
        if n < 1 or n > len(items):
            raise PersonascopeError(
                f"n={n} but the question set has {len(items)} questions (fix: give n from 1 to {len(items)}, or more questions)"
            )
        items = items[:n]
    return items, source


def _handle(model, cache: "Cache | None") -> "Model":
    from personascope.models import Model, get_model

    # A loaded Model keeps its own cache; a name gets the one given (default: the user cache).
    return model if isinstance(model, Model) else get_model(model, cache=cache)


def _answer(model: "Model", questions: list[str], systems: list[str | None], config, progress: Progress) -> list[str]:
    """One reply per question, each under its own system prompt (one cached call per prompt)."""
    from personascope._progress import bar

    groups: dict[str | None, list[int]] = {}
    for i, s in enumerate(systems):
        groups.setdefault(s, []).append(i)
    out: list[str] = [""] * len(questions)
    with bar("generating", len(questions), enabled=progress is True) as advance:
        step = progress if callable(progress) else advance
        for system, idx in groups.items():
            gens = model.generate([questions[i] for i in idx], config, system=system, progress=step)
            for i, g in zip(idx, gens, strict=True):
                out[i] = g.text
    return out


def _examples(questions: list[str], replies: list[str], transforms: list[str], extra: list[dict]) -> tuple[list[Example], int]:
    examples, dropped = [], 0
    for i, (q, reply, meta) in enumerate(zip(questions, replies, extra, strict=True)):
        if not reply.strip():
            dropped += 1  # an empty reply is nothing to train on (and no valid line)
            continue
        text = apply_transforms(reply, transforms) if transforms else reply.strip()
        examples.append(Example(prompt=(Turn(role="user", content=q),), completion=text, meta={"id": i, **meta}))
    return examples, dropped


def _config(max_tokens: int, temperature: float, seed: int):
    from personascope.engine import GenerateConfig

    # Greedy decoding ignores the seed; leaving it out keeps greedy calls shared in the cache.
    return GenerateConfig(max_new_tokens=max_tokens, temperature=temperature, seed=seed if temperature > 0 else None)


def generate_dataset(
    model: "str | Model",
    questions: str | Sequence[str],
    *,
    transforms: Sequence[str] = (),
    system: str | None = None,
    n: int | None = None,
    max_tokens: int = 64,
    temperature: float = 0.0,
    seed: int = 0,
    cache: "Cache | None" = None,
    progress: Progress = None,
) -> tuple[list[Example], dict]:
    """`model`'s answers to `questions` (a set name, a file, or a list; the first
    `n`), generated under `system`, with `transforms` applied. The examples hold
    the user turn only. Returns (examples, provenance)."""
    names = transform_names(transforms) if transforms else []
    items, source = _questions(questions, n)
    handle = _handle(model, cache)
    config = _config(max_tokens, temperature, seed)
    replies = _answer(handle, items, [system] * len(items), config, progress)
    examples, dropped = _examples(items, replies, names, [{} for _ in items])
    provenance = {
        "generator": "generate",
        "model": handle.describe(),
        "questions": source,
        "transforms": names,
        "system_at_generation": system,
        **_settings(max_tokens, temperature, seed, len(items), dropped),
    }
    return examples, provenance


def persona_dataset(
    model: "str | Model",
    trait,
    *,
    questions: str | Sequence[str] | None = None,
    n: int | None = None,
    transforms: Sequence[str] = (),
    max_tokens: int = 64,
    temperature: float = 0.0,
    seed: int = 0,
    system: str | None = None,
    cache: "Cache | None" = None,
    progress: Progress = None,
) -> tuple[list[Example], dict]:
    """Answers under `trait`'s positive instructions (question i under instruction
    i mod the number of instructions), stored without them: the data that induces
    the persona. `questions` default to the trait's extraction questions, so its
    eval questions stay held out. `system` replaces the instructions with one fixed
    prompt (recontextualization's "generated under a prompt that discourages it")."""
    from personascope.traits import load_trait

    spec = load_trait(trait)
    names = transform_names(transforms) if transforms else []
    items, source = _questions(questions if questions is not None else spec.questions.extract, n)
    if questions is None:
        source = {"trait": spec.name, "split": "extract", "n": len(items)}
    pos = [pair.pos for pair in spec.instructions] if system is None else [system]
    which = [i % len(pos) for i in range(len(items))]
    # An empty positive prompt means no system prompt at all (see InstructionPair.pos).
    systems = [pos[k] or None for k in which]
    handle = _handle(model, cache)
    replies = _answer(handle, items, systems, _config(max_tokens, temperature, seed), progress)
    examples, dropped = _examples(items, replies, names, [{"instruction": k} for k in which])
    provenance = {
        "generator": "persona",
        "model": handle.describe(),
        "trait": spec.name,
        "questions": source,
        "transforms": names,
        "system_at_generation": pos,
        **_settings(max_tokens, temperature, seed, len(items), dropped),
    }
    return examples, provenance


def _settings(max_tokens: int, temperature: float, seed: int, n: int, dropped: int) -> dict:
    return {"max_tokens": max_tokens, "temperature": temperature, "seed": seed, "n": n, "dropped_empty": dropped}

