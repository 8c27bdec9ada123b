"""Gathering concurrent Inspect requests into batched engine calls.

Inspect calls `generate()` once per sample, concurrently (up to its connection
limit). One background worker thread drains a queue of those requests, groups the
ones that can share a forward pass (same provider setup, same generation
settings) and runs each group as one `Engine.generate` call. A provider's
interventions are installed around its group only, under a per-engine lock, so
providers with different steering can share one cached `Engine` safely.
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from queue import Empty, Queue
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from personascope.engine import Engine, GenerateConfig, Generation
    from personascope.vectors import PersonaVector


@dataclass(eq=False)
class Setup:
    """What one provider instance brings to every batch: its engine and its hooks."""

    engine: "Engine"
    interventions: tuple[Any, ...] = ()
    projections: tuple[tuple[str, "PersonaVector", int], ...] = ()
    """(label, vector, layer) for each `project` spec."""
    batch_size: int = 16
    batch_wait: float = 0.2


@dataclass
class Result:
    generation: "Generation"
    projections: dict[str, float | None] | None
    time: float
    tokens: list[str] | None = None
    """Each generated token as text (only when logprobs were asked for)."""


@dataclass(eq=False)
class _Request:
    setup: Setup
    prompt: list[dict[str, str]]
    config: "GenerateConfig"
    future: Future = field(default_factory=Future)

    @property
    def key(self) -> tuple:
        # Requests share a batch only if every setting that shapes decoding agrees.
        return (id(self.setup), self.config.model_dump_json())


_locks: "weakref.WeakKeyDictionary[Engine, threading.Lock]" = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


def engine_lock(engine: "Engine") -> threading.Lock:
    """The lock held while the provider uses `engine` (hooks installed, generating).

    Hold it yourself if you use the same engine from another thread while an
    Inspect eval runs, so your calls never see the provider's interventions.
    """
    with _locks_guard:
        return _locks.setdefault(engine, threading.Lock())


class Batcher:
    """A queue and the one worker thread that serves it (started on first use)."""

    def __init__(self) -> None:
        self.queue: Queue[_Request] = Queue()
        self._thread: threading.Thread | None = None
        self._start_guard = threading.Lock()

    def _ensure_worker(self) -> None:
        with self._start_guard:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="personascope-batcher", daemon=True)
                self._thread.start()

    async def submit(self, setup: Setup, prompt: list[dict[str, str]], config: "GenerateConfig") -> Result:
        self._ensure_worker()
        request = _Request(setup, prompt, config)
        self.queue.put(request)
        return await _wait(request.future)

    # -- worker thread ------------------------------------------------------
    def _work(self) -> None:
        while True:
            for group in self.gather():
                run_group(group)

    def gather(self) -> list[list[_Request]]:
        """Block for one request, then collect more until the queue has been quiet
        for `batch_wait` seconds or `batch_size` requests are in hand. Returns the
        requests grouped by batch key, in order of each group's first request."""
        first = self.queue.get()
        groups: dict[tuple, list[_Request]] = {first.key: [first]}
        collected, limit, wait = 1, first.setup.batch_size, first.setup.batch_wait
        while collected < limit:
            try:
                item = self.queue.get(timeout=wait)
            except Empty:
                break
            groups.setdefault(item.key, []).append(item)
            collected += 1
        return list(groups.values())


async def _wait(future: Future) -> Result:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass  # another backend (trio): poll below
    else:
        # Cancelling the asyncio task (a sample timeout) cancels the request too.
        return await asyncio.wrap_future(future)
    import anyio

    try:
        while not future.done():
            await anyio.sleep(0.01)
    finally:
        future.cancel()
    return future.result()


def run_group(group: Sequence[_Request]) -> None:
    """Generate one group in a single engine call and resolve its futures."""
    live = [r for r in group if r.future.set_running_or_notify_cancel()]
    if not live:
        return
    setup = live[0].setup
    try:
        start = time.monotonic()
        prompts = [r.prompt for r in live]
        gens, projections, tokens = _generate(setup, prompts, live[0].config)
        elapsed = time.monotonic() - start
        for i, request in enumerate(live):
            result = Result(gens[i], projections[i] if projections else None, elapsed, tokens[i] if tokens else None)
            request.future.set_result(result)
    except BaseException as exc:  # noqa: BLE001 - every waiter must hear about the failure
        for request in live:
            if not request.future.done():
                request.future.set_exception(exc)


def _generate(setup: Setup, prompts: list, config: "GenerateConfig"):
    from contextlib import nullcontext

    engine = setup.engine
    with engine_lock(engine):
        hooks = engine.intervene(*setup.interventions) if setup.interventions else nullcontext()
        with hooks:
            gens = engine.generate(prompts, config)
            projections = project(setup, prompts, [g.text for g in gens]) if setup.projections else None
        # Token texts for logprobs, decoded here: the tokenizer is only ever used under the lock.
        decode = engine.tokenizer.decode
        tokens = [[decode([t]) for t in g.token_ids] for g in gens] if config.logprobs else None
    return gens, projections, tokens


def project(setup: Setup, prompts: list, responses: list[str]) -> list[dict[str, float | None]]:
    """Each response's response-mean projection on each `project` vector, computed
    with the provider's interventions still installed (so steering shows)."""
    layers = sorted({layer for _, _, layer in setup.projections})
    acts = setup.engine.capture(
        prompts, responses, layers=layers, poolings=("response_mean",), batch_size=setup.batch_size
    )["response_mean"]
    out: list[dict[str, float | None]] = [{} for _ in prompts]
    for label, vector, layer in setup.projections:
        values = vector.project(acts[:, layers.index(layer)], layer).tolist()
        for row, value in zip(out, values):
            # An empty response has no response tokens: NaN, which JSON logs cannot hold.
            row[label] = None if math.isnan(value) else float(value)
    return out


batcher = Batcher()
"""The process-wide batcher shared by every personascope provider instance."""
