"""Model calls through the cache: generation, scoring, top logprobs and capture.

Every item (one prompt, one prompt+response) has its own key, so overlapping
studies share work and a killed run keeps every chunk it finished. Misses are
sent to the model in chunks, and each chunk is written to the cache as soon as
it returns. The engine is loaded only on the first miss: a fully cached rerun
never loads a model at all.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict

from personascope.engine._chat import Prompt, to_messages
from personascope.engine._spec import InterventionItem, InterventionSpec
from personascope.engine._types import GenerateConfig, Generation, Scored
from personascope.engine._vectorfile import vector_digest
from personascope.errors import PersonascopeError
from personascope.models._handle import Handle
from personascope.store._cache import cache_key

# Settings that change no output: left out of keys so they never split the cache.
_NEUTRAL_CONFIG = {"batch_size"}

Intervention = tuple[str, str]
"""(kind, spec): kind is steer, ablate or cap; spec as in `personascope.engine.FORMS`."""
Interventions = Sequence[Intervention] | InterventionSpec
"""What the operations take: `(kind, text)` pairs or an `InterventionSpec`."""

__all__ = ["Intervention", "Interventions", "Model", "intervention_key", "vector_digest"]


def intervention_key(kind: str, spec: str) -> list[str]:
    """An intervention as it enters a cache key: the vector by content, not by path."""
    return InterventionItem.parse(kind, spec).key()


class Model(Handle):
    """One model (any personascope model name) behind the call cache.

    `dtype`, `device` and `layers_path` configure white-box loading; `model_args`
    go to Inspect's `get_model` for black-box models.
    """

    # -- the cached core ----------------------------------------------------
    def _cached(
        self,
        op: str,
        keys: list[str],
        compute: Callable[[list[int]], list[bytes]],
        chunk: int,
        progress: Callable[[int], None] | None,
    ) -> list[bytes]:
        found = self.cache.get_many(keys)
        values: list[bytes | None] = [found.get(k) for k in keys]
        if progress:
            progress(sum(v is not None for v in values))
        todo = [i for i, v in enumerate(values) if v is None]
        # Duplicate inputs within one call are computed once.
        first: dict[str, int] = {}
        for i in todo:
            first.setdefault(keys[i], i)
        unique = list(first.values())
        for start in range(0, len(unique), chunk):
            idx = unique[start : start + chunk]
            self.calls += 1
            out = compute(idx)
            self.cache.put_many({keys[i]: v for i, v in zip(idx, out)}, op=op)
            for i, v in zip(idx, out):
                values[i] = v
            if progress:
                progress(len(idx))
        for i in todo:
            if values[i] is None:
                values[i] = values[first[keys[i]]]
        return values  # type: ignore[return-value]

    def _chunk(self, batch_size: int) -> int:
        # A few batches per chunk keeps length-sorting useful and caps lost work on a kill.
        return max(4 * batch_size, 16)

    # -- operations ---------------------------------------------------------
    def generate(
        self,
        prompts: Sequence[Prompt],
        config: GenerateConfig | None = None,
        *,
        system: str | None = None,
        interventions: Interventions = (),
        progress: Callable[[int], None] | None = None,
    ) -> list[Generation]:
        """One response per prompt; `interventions` need a white-box model."""
        config = config or GenerateConfig()
        params = config.model_dump(exclude=_NEUTRAL_CONFIG)
        interventions = InterventionSpec.from_pairs(interventions)
        ivs = interventions.keys()
        if ivs and not self.white_box:
            raise PersonascopeError(f"{self.name} is a black-box model: steering, ablation and capping need smollm2 or hf/<path>")
        messages = [to_messages(p, system) for p in prompts]
        keys = [
            cache_key(op="generate", model=self.fingerprint(), messages=m, params=params, interventions=ivs)
            for m in messages
        ]

        def compute(idx: list[int]) -> list[bytes]:
            gens = self._generate([messages[i] for i in idx], config, interventions)
            return [json.dumps(asdict(g)).encode() for g in gens]

        raw = self._cached("generate", keys, compute, self._chunk(config.batch_size), progress)
        return [Generation(**json.loads(r)) for r in raw]

    def _generate(self, messages: list[list[dict]], config: GenerateConfig, interventions) -> list[Generation]:
        if self.white_box:
            with self._intervening(interventions):
                return self.engine.generate(messages, config)
        import asyncio

        from personascope.models._generate import _inspect_generate

        return asyncio.run(_inspect_generate(self.ref.target, messages, config, None, self.model_args))

    def score(
        self,
        prompts: Sequence[Prompt],
        continuations: Sequence[str],
        *,
        system: str | None = None,
        interventions: Interventions = (),
        progress: Callable[[int], None] | None = None,
    ) -> list[Scored]:
        """Per-token log-probabilities of each continuation given its prompt, under
        `interventions` (a steered model's preference between answers)."""
        messages = [to_messages(p, system) for p in prompts]
        interventions = InterventionSpec.from_pairs(interventions)
        ivs = interventions.keys()
        keys = [
            # Unsteered keys keep their old form, so earlier cached scores stay valid.
            cache_key(op="score", model=self.fingerprint(), messages=m, continuation=c, **({"interventions": ivs} if ivs else {}))
            for m, c in zip(messages, continuations, strict=True)
        ]

        return self._scored("score", keys, self.engine.score, messages, continuations, interventions, progress)

    def loglikelihood(
        self,
        contexts: Sequence[str],
        continuations: Sequence[str],
        *,
        interventions: Interventions = (),
        progress: Callable[[int], None] | None = None,
    ) -> list[Scored]:
        """Per-token log-probabilities of each continuation after a raw text context
        (no chat template; tokenized as lm-evaluation-harness does, see
        `Engine.loglikelihood`), under `interventions`. White-box models only."""
        if not self.white_box:
            raise PersonascopeError(
                f"{self.name} is a black-box model: log-likelihoods of raw text need smollm2 or hf/<path>"
            )
        interventions = InterventionSpec.from_pairs(interventions)
        ivs = interventions.keys()
        keys = [
            cache_key(op="loglikelihood", model=self.fingerprint(), context=x, continuation=c, interventions=ivs)
            for x, c in zip(contexts, continuations, strict=True)
        ]

        return self._scored(
            "loglikelihood", keys, self.engine.loglikelihood, contexts, continuations, interventions, progress
        )

    def _scored(self, op, keys, score, inputs, continuations, interventions, progress) -> list[Scored]:
        """`score(inputs, continuations)` under `interventions`, through the cache in chunks of 8."""

        def compute(idx: list[int]) -> list[bytes]:
            with self._intervening(interventions):
                out = score([inputs[i] for i in idx], [continuations[i] for i in idx])
            return [json.dumps(asdict(s)).encode() for s in out]

        raw = self._cached(op, keys, compute, self._chunk(8), progress)
        return [Scored(**json.loads(r)) for r in raw]

    def _intervening(self, interventions: InterventionSpec):
        """A context with `interventions` installed on the engine (none: a no-op)."""
        import contextlib

        if not interventions:
            return contextlib.nullcontext()
        engine = self.engine
        # Steering applies before ablation and capping, whatever order the caller gave:
        # the order results were always computed in, so cached results stay true.
        rank = {"steer": 0, "ablate": 1, "cap": 2}
        ordered = sorted(interventions.items, key=lambda item: rank[item.kind])
        return engine.intervene(*(item.resolve(engine.n_layers, engine.hidden_size) for item in ordered))

    def top_logprobs(
        self,
        prompts: Sequence[Prompt],
        k: int = 20,
        *,
        system: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[list[tuple[str, float]]]:
        """The k most likely next tokens after each prompt (what logprob judges read)."""
        messages = [to_messages(p, system) for p in prompts]
        keys = [cache_key(op="top_logprobs", model=self.fingerprint(), messages=m, k=k) for m in messages]

        def compute(idx: list[int]) -> list[bytes]:
            return [json.dumps(t).encode() for t in self.engine.top_logprobs([messages[i] for i in idx], k)]

        raw = self._cached("top_logprobs", keys, compute, self._chunk(8), progress)
        return [[(tok, lp) for tok, lp in json.loads(r)] for r in raw]

    def choice_logprobs(
        self,
        prompts: Sequence[Prompt],
        labels: Sequence[str],
        *,
        system: str | None = None,
        interventions: Interventions = (),
        progress: Callable[[int], None] | None = None,
    ) -> list[list[float]]:
        """Log-probability of each label as the whole start of the answer, per prompt,
        under `interventions`: one forward pass per prompt when every label is a single
        token, else one scored continuation per label."""
        labels = list(labels)
        messages = [to_messages(p, system) for p in prompts]
        interventions = InterventionSpec.from_pairs(interventions)
        ivs = interventions.keys()
        keys = [cache_key(op="choice", model=self.fingerprint(), messages=m, labels=labels, interventions=ivs) for m in messages]

        def compute(idx: list[int]) -> list[bytes]:
            chunk = [messages[i] for i in idx]
            with self._intervening(interventions):
                out = self.engine.next_logprobs(chunk, labels)
                if out is None:
                    flat = self.engine.score([m for m in chunk for _ in labels], labels * len(chunk))
                    out = [[s.total for s in flat[k * len(labels) : (k + 1) * len(labels)]] for k in range(len(chunk))]
            return [json.dumps(row).encode() for row in out]

        raw = self._cached("choice", keys, compute, self._chunk(8), progress)
        return [json.loads(r) for r in raw]

    def number_distribution(
        self,
        prompts: Sequence[Prompt],
        *,
        k: int = 20,
        system: str | None = None,
        progress: Callable[[int], None] | None = None,
    ):
        """The distribution over the integers 0..100 each prompt's answer starts with
        (a list of `NumberDistribution`; what logprob-weighted rubric judges read)."""
        from personascope.engine._numbers import NUMBERS_VERSION, NumberDistribution

        messages = [to_messages(p, system) for p in prompts]
        keys = [
            cache_key(op="numbers", model=self.fingerprint(), messages=m, k=k, version=NUMBERS_VERSION) for m in messages
        ]

        def compute(idx: list[int]) -> list[bytes]:
            dists = self.engine.number_distribution([messages[i] for i in idx], k=k)
            return [json.dumps(d.to_json()).encode() for d in dists]

        raw = self._cached("numbers", keys, compute, self._chunk(8), progress)
        return [NumberDistribution.from_json(json.loads(r)) for r in raw]

    def capture(
        self,
        prompts: Sequence[Prompt],
        responses: Sequence[str] | None = None,
        *,
        layers: Sequence[int] | None = None,
        poolings: Sequence[str] = ("response_mean",),
        system: str | None = None,
        interventions: Interventions = (),
        progress: Callable[[int], None] | None = None,
    ):
        """Pooled activations as `Engine.capture` returns them (an `Activations`).

        Layers default to all, which needs the layer count, so this loads the model's
        config; activations themselves come from the cache when present. Under
        `interventions` they are what the steered or capped model computes (a hook
        on a layer acts before that layer's output is read).
        """
        import torch
        from safetensors.torch import load as load_tensors
        from safetensors.torch import save as save_tensors

        from personascope.engine._types import Activations

        from personascope.engine._layers import check_layers

        n = self.n_layers()
        layers = list(range(n)) if layers is None else check_layers(list(layers), n)
        messages = [to_messages(p, system) for p in prompts]
        responses_ = list(responses) if responses is not None else [None] * len(messages)
        interventions = InterventionSpec.from_pairs(interventions)
        ivs = interventions.keys()
        keys = [
            # Plain keys keep their old form, so earlier cached activations stay valid.
            cache_key(op="capture", model=self.fingerprint(), messages=m, response=r, layers=layers, poolings=sorted(poolings),
                      **({"interventions": ivs} if ivs else {}))
            for m, r in zip(messages, responses_, strict=True)
        ]

        def compute(idx: list[int]) -> list[bytes]:
            resp = None if responses is None else [responses_[i] for i in idx]
            with self._intervening(interventions):
                acts = self.engine.capture([messages[i] for i in idx], resp, layers=layers, poolings=poolings)
            return [save_tensors({p: acts[p][j].contiguous().cpu() for p in poolings}) for j in range(len(idx))]

        raw = self._cached("capture", keys, compute, self._chunk(8), progress)
        rows = [load_tensors(r) for r in raw]
        data = {p: torch.stack([row[p] for row in rows]) if rows else torch.empty(0) for p in poolings}
        return Activations(layers=layers, data=data)
