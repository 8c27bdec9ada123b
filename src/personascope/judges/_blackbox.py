"""Logprob judging of black-box (Inspect) models: one short greedy answer with top-k
logprobs per position, cached per item, read into a number distribution.

APIs give only the top-k tokens at each position of the path actually generated,
so the tree walk of `personascope.engine._numbers` is possible only along that path:

- At each position after the greedy number's digits, the number *ends* with the
  mass on tokens that do not start with a digit (as for white-box models).
- Alternatives to the greedy token ("siblings") that spell a number are assumed to
  end right after that token. For whole-number tokenizers (OpenAI's: ' 85' is one
  token) this is the usual reading of the first position's top-20.
- For digit-split tokenizers (Qwen, Mistral, Gemma behind vLLM), a sibling *before*
  the greedy number's last digit is a truncated number ('7' of '7x'); when such
  siblings carry more than `MAX_UNSEEN` of the probability, the distribution is
  unknowable from one call and the judge falls back to sampling.
"""

import json
import math
from collections.abc import Callable, Sequence

from personascope.engine._chat import Prompt, to_messages
from personascope.engine._numbers import NumberDistribution, is_refusal_start, valid_number
from personascope.store._cache import cache_key

MAX_UNSEEN = 0.05
MAX_TOKENS = 6  # ' ', '1', '0', '0' and the terminator, with one to spare


def logprob_answers(model, prompts: Sequence[Prompt], *, k: int = 20, progress: Callable[[int], None] | None = None) -> list[dict]:
    """Per prompt: {"text": greedy answer, "positions": [{token, logprob, top: [[token, logprob], ...]}] or None
    when the provider returned no logprobs}. Cached per item in `model.cache`."""
    messages = [to_messages(p) for p in prompts]
    keys = [
        cache_key(op="judge_logprobs", model=model.fingerprint(), messages=m, k=k, max_tokens=MAX_TOKENS)
        for m in messages
    ]

    def compute(idx: list[int]) -> list[bytes]:
        import asyncio  # only black-box judging needs an event loop; validation should not import it

        out = asyncio.run(_inspect_logprobs(model.ref.target, [messages[i] for i in idx], k, model.model_args))
        return [json.dumps(o).encode() for o in out]

    # Model's chunked, per-item cache (resumable; duplicates computed once).
    raw = model._cached("judge_logprobs", keys, compute, 64, progress)
    return [json.loads(r) for r in raw]


async def _inspect_logprobs(target: str, messages: list[list[dict]], k: int, model_args: dict) -> list[dict]:
    from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser, GenerateConfig

    from personascope.models._inspect import generate_failed, inspect_model

    kinds = {"system": ChatMessageSystem, "user": ChatMessageUser, "assistant": ChatMessageAssistant}
    api, settings = inspect_model(target, model_args)
    config = GenerateConfig(max_tokens=MAX_TOKENS, temperature=0.0, logprobs=True, top_logprobs=k, **settings)

    async def one(conversation: list[dict]) -> dict:
        try:
            out = await api.generate([kinds[m["role"]](content=m["content"]) for m in conversation], config=config)
        except Exception as exc:  # Inspect has retried already; what is left is the user's to fix
            raise generate_failed(target, exc, settings) from exc
        logprobs = out.choices[0].logprobs if out.choices else None
        positions = None
        if logprobs is not None and logprobs.content and all(x.top_logprobs for x in logprobs.content):
            positions = [
                {"token": x.token, "logprob": x.logprob, "top": [[t.token, t.logprob] for t in x.top_logprobs]}
                for x in logprobs.content
            ]
        return {"text": out.completion, "positions": positions}

    import asyncio

    return list(await asyncio.gather(*(one(m) for m in messages)))


def _number_part(token: str, state: str) -> str | None:
    """The digits `token` adds to a number in `state` (start / space / number), if any."""
    text = token.strip() if state == "start" else token
    return text if text.isascii() and text.isdigit() else None


def distribution_from_positions(positions: list[dict], *, min_prob: float = 1e-3) -> NumberDistribution | None:
    """The number distribution readable from one greedy path's top-k logprobs, or
    None when too much probability sits on truncated numbers (see the module doc)."""
    dist = NumberDistribution()
    if not positions:
        return dist
    dist.refusal = sum(math.exp(lp) for t, lp in positions[0]["top"] if is_refusal_start(t))
    prob, digits, state = 1.0, "", "start"
    siblings: list[tuple[int, str, float]] = []
    last_digit = -1
    for i, pos in enumerate(positions):
        top = [(t, math.exp(lp)) for t, lp in pos["top"]]
        if digits:
            cont = sum(q for t, q in top if t[:1].isascii() and t[:1].isdigit())
            dist.probs[int(digits)] = dist.probs.get(int(digits), 0.0) + prob * max(0.0, 1.0 - cont)
        for token, q in top:
            part = _number_part(token, state)
            if token != pos["token"] and part is not None and valid_number(digits + part) and prob * q >= min_prob:
                siblings.append((i, digits + part, prob * q))
        part = _number_part(pos["token"], state)
        if part is not None and valid_number(digits + part):
            digits, prob, state, last_digit = digits + part, prob * math.exp(pos["logprob"]), "number", i
        elif state == "start" and pos["token"] and not pos["token"].strip():
            prob, state = prob * math.exp(pos["logprob"]), "space"
        else:
            digits = ""
            break
    if digits:  # the answer ran out of tokens inside the number: assume it ends there
        dist.probs[int(digits)] = dist.probs.get(int(digits), 0.0) + prob
    if sum(q for i, _, q in siblings if i < last_digit) > MAX_UNSEEN:
        return None
    for _, number, q in siblings:
        dist.probs[int(number)] = dist.probs.get(int(number), 0.0) + q
    return dist

