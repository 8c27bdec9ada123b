"""A judge's answer as a probability distribution over the integers 0..100.

Tokenizers write numbers differently: GPT-style ones have whole-number tokens
(' 85'), SmolLM2, Qwen, Mistral and Gemma split them into digits (' 85' is
'Ġ', '8', '5'). So the first next-token distribution alone is not the answer's
distribution. We walk the tree of digit tokens instead:

    P(n) = sum over token paths spelling n of P(path) * P(number ends | path)

- The first step reads the top-k next tokens (as an API judge would): a token
  whose stripped text is all digits starts a number (' 85', '8'); a whitespace-only
  token (' ', '\\n') is followed one step, since models often emit a space first.
- Later steps read the full next-token distribution: an all-digit token extends
  the number; the number *ends* with the mass on tokens that do not start with a
  digit, end of turn included (so '7.5' and '7%' count as 7). Tokens that start
  with a digit but are not all digits (a '5%' token) neither end nor extend: their
  mass is lost.
- Paths below `min_prob`, numbers above 100 and leading zeros ('05') are pruned.

The long rubric prompt is encoded once; the candidate digits of a whole batch are
then decoded as token trees on top of its KV cache (see `_Tree`).

Refusal mass is the first step's top-k mass on tokens that look like the start
of a refusal (`is_refusal_start`: 'REF' as in the rubric convention "answer
REFUSAL", 'Sorry', 'Unfortunately', 'Apolog...'). Multi-token openings such as
"I can't" cannot be told apart from "I would rate..." at the first token.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from personascope.errors import PersonascopeError

if TYPE_CHECKING:
    from personascope.engine._engine import Engine

NUMBERS_VERSION = 1
"""Bumped when the computed distribution changes meaning (it enters cache keys)."""
MAX_NUMBER = 100
REFUSAL_STARTS = ("REF", "SORRY", "UNFORTUNATELY", "APOLOG", "I CAN'T", "I CANNOT", "I'M SORRY", "I WON'T", "AS AN AI")


def is_refusal_start(text: str) -> bool:
    """Whether `text` (a token or an answer) opens like a refusal."""
    upper = text.strip().upper().replace("\u2019", "'")
    return bool(upper) and upper.startswith(REFUSAL_STARTS)


def valid_number(digits: str) -> bool:
    """Digits that spell an integer 0..100 without leading zeros."""
    return bool(digits) and (len(digits) == 1 or digits[0] != "0") and int(digits) <= MAX_NUMBER


def _all_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


@dataclass
class NumberDistribution:
    """Probabilities of the integers 0..100 as a judge's answer (absent = 0)."""

    probs: dict[int, float] = field(default_factory=dict)
    refusal: float = 0.0
    """First-token probability on refusal-like openings."""

    @property
    def mass(self) -> float:
        return float(sum(self.probs.values()))

    def mean(self) -> float | None:
        """The probability-weighted mean number (None with no mass at all)."""
        mass = self.mass
        return sum(n * p for n, p in self.probs.items()) / mass if mass > 0 else None

    def to_json(self) -> dict:
        return {"probs": {str(n): p for n, p in sorted(self.probs.items())}, "refusal": self.refusal}

    @classmethod
    def from_json(cls, data: dict) -> "NumberDistribution":
        return cls({int(n): float(p) for n, p in data["probs"].items()}, float(data["refusal"]))


@dataclass
class _Vocab:
    """Token classes for the walk, computed once per engine."""

    first: dict[int, str]  # stripped text all digits: starts a number at the first step
    space: set[int]  # whitespace only: followed one step
    refusal: set[int]
    digit_ids: "object"  # LongTensor of all-digit tokens (extend a number)
    digit_text: list[str]
    starts_digit: "object"  # LongTensor of tokens whose text starts with a digit


def _vocab(engine: "Engine") -> _Vocab:
    cached = getattr(engine, "_number_vocab", None)
    if cached is not None:
        return cached
    import torch

    texts = engine.tokenizer.batch_decode([[i] for i in range(len(engine.tokenizer))])
    special = set(engine.tokenizer.all_special_ids)
    first, space, refusal, digits, starts = {}, set(), set(), [], []
    for i, text in enumerate(texts):
        if i in special:
            continue
        stripped = text.strip()
        if _all_digits(stripped):
            first[i] = stripped
        elif text and not stripped:
            space.add(i)
        elif is_refusal_start(text):
            refusal.add(i)
        if _all_digits(text):
            digits.append(i)
        if text[:1].isascii() and text[:1].isdigit():
            starts.append(i)
    vocab = _Vocab(
        first, space, refusal, torch.tensor(digits, dtype=torch.long), [texts[i] for i in digits],
        torch.tensor(starts, dtype=torch.long),
    )
    engine._number_vocab = vocab
    return vocab


@dataclass
class _Path:
    row: int  # row in the prompt batch
    tokens: tuple[int, ...]
    prob: float
    digits: str  # "" after a whitespace-only first token
    fed: tuple[int, ...] = ()  # tree columns of the tokens already in the KV cache


def number_distribution(
    engine: "Engine", prompt_ids: Sequence[Sequence[int]], k: int, batch_size: int, min_prob: float = 1e-3
) -> list[NumberDistribution]:
    import torch

    from personascope.engine._batching import left_pad, length_sorted_batches

    vocab = _vocab(engine)
    results: list[NumberDistribution | None] = [None] * len(prompt_ids)
    for batch in length_sorted_batches([len(p) for p in prompt_ids], batch_size):
        ids, mask, pos = left_pad([prompt_ids[i] for i in batch], engine.pad_id, engine.device)
        dists = [NumberDistribution() for _ in batch]
        with torch.inference_mode():
            out = engine.model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, logits_to_keep=1)
            lp = torch.log_softmax(out.logits[:, -1].float(), dim=-1).double().cpu()
            cache = out["cache"] if "cache" in out else out["past_key_values"]  # renamed in transformers 5.2x
            tree = _Tree(engine, cache, mask)
            frontier = _first_step(lp, min(k, lp.shape[-1]), vocab, dists, min_prob)
            while frontier:
                frontier = _extend(frontier, tree.step(frontier), vocab, dists, min_prob)
        for row, i in enumerate(batch):
            results[i] = dists[row]
    return results  # type: ignore[return-value]


def _first_step(lp, k: int, vocab: _Vocab, dists: list[NumberDistribution], min_prob: float) -> list[_Path]:
    frontier = []
    top = lp.topk(k, dim=-1)
    for row in range(lp.shape[0]):
        for value, token in zip(top.values[row].tolist(), top.indices[row].tolist()):
            p = math.exp(value)
            if token in vocab.refusal:
                dists[row].refusal += p
            if p < min_prob:
                continue
            if token in vocab.first and valid_number(vocab.first[token]):
                frontier.append(_Path(row, (token,), p, vocab.first[token]))
            elif token in vocab.space:
                frontier.append(_Path(row, (token,), p, ""))
    return frontier


class _Tree:
    """All candidate paths of a prompt batch, decoded as one token tree per row.

    Each step feeds the last token of every frontier path after the prompt's KV
    cache and the tokens of earlier steps, with a 4D attention mask that lets a
    token see its prompt and its own ancestors only (tree attention, as in
    speculative decoding). Every tree token is computed once, and the prompt's
    cache is never copied per path, which on CPU is what made the naive
    one-row-per-path expansion slow (memory traffic, not FLOPs).
    """

    def __init__(self, engine: "Engine", cache, mask) -> None:
        attention = getattr(engine.model.config, "_attn_implementation", None) or "sdpa"
        if attention not in ("eager", "sdpa"):
            # flash / flex kernels take no additive 4D mask, and would silently ignore the tree.
            raise PersonascopeError(
                f"number distributions need eager or sdpa attention, not {attention!r}: "
                "load the model with attn_implementation='sdpa'"
            )
        self.engine, self.cache = engine, cache
        self.prompt_mask = mask.bool()
        self.lengths = mask.sum(dim=1)
        self.width = mask.shape[1]
        self.columns = 0  # tree tokens in the cache so far (padding slots included)
        self.kwarg = _cache_arg(engine.model)

    def step(self, paths: list[_Path]):
        """Next-token probabilities after each path ([len(paths), vocab], float64, CPU)."""
        import torch

        rows = self.prompt_mask.shape[0]
        device = self.prompt_mask.device
        slot: list[int] = []
        counts = [0] * rows
        for path in paths:
            slot.append(counts[path.row])
            counts[path.row] += 1
        n = max(counts)
        start = self.width + self.columns
        tokens = torch.full((rows, n), self.engine.pad_id, dtype=torch.long)
        positions = self.lengths.cpu()[:, None].repeat(1, n)
        allowed = torch.zeros(rows, n, start + n, dtype=torch.bool)
        allowed[:, :, : self.width] = self.prompt_mask.cpu()[:, None, :]
        # Each new token sees itself; unused slots see only themselves (never all
        # masked, which would give NaN) and nothing later ever sees them.
        allowed[:, torch.arange(n), start + torch.arange(n)] = True
        for path, j in zip(paths, slot):
            tokens[path.row, j] = path.tokens[-1]
            positions[path.row, j] += len(path.tokens) - 1
            for column in path.fed:
                allowed[path.row, j, self.width + column] = True
        dtype = self.engine.dtype
        bias = torch.zeros(allowed.shape, dtype=dtype).masked_fill_(~allowed, torch.finfo(dtype).min)
        out = self.engine.model(
            input_ids=tokens.to(device), attention_mask=bias[:, None].to(device), position_ids=positions.to(device),
            use_cache=True, logits_to_keep=n, **{self.kwarg: self.cache},
        )
        logits = out.logits[:, -n:]
        picked = logits[torch.tensor([p.row for p in paths]), torch.tensor(slot)]
        for path, j in zip(paths, slot):
            path.fed = (*path.fed, self.columns + j)
        self.columns += n
        return torch.softmax(picked.double(), dim=-1).cpu()


def _cache_arg(model) -> str:
    # transformers 5.2x renamed the forward argument `past_key_values` to `cache`.
    import inspect

    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _extend(paths: list[_Path], probs, vocab: _Vocab, dists: list[NumberDistribution], min_prob: float) -> list[_Path]:
    frontier = []
    ends = 1.0 - probs[:, vocab.starts_digit].sum(dim=-1)
    nexts = probs[:, vocab.digit_ids] if len(vocab.digit_text) else None
    for j, path in enumerate(paths):
        if path.digits:
            n = int(path.digits)
            dists[path.row].probs[n] = dists[path.row].probs.get(n, 0.0) + path.prob * float(ends[j].clamp(min=0))
        if nexts is None:
            continue
        weighted = path.prob * nexts[j]
        for col in (weighted >= min_prob).nonzero().flatten().tolist():
            digits = path.digits + vocab.digit_text[col]
            if valid_number(digits):
                token = int(vocab.digit_ids[col])
                frontier.append(_Path(path.row, (*path.tokens, token), float(weighted[col]), digits, path.fed))
    return frontier
