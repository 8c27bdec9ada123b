"""The white-box engine: one loaded transformers model and everything done with it."""

from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

import torch

from personascope.engine import _forward, _generate
from personascope.engine._chat import DocumentFrame, Prompt, render, to_messages
from personascope.engine._interventions import InterventionHandle, Intervention, PositionState, install
from personascope.engine._layers import check_layers, find_layers
from personascope.engine._numbers import NumberDistribution, number_distribution
from personascope.engine._types import Activations, GenerateConfig, Generation, Scored

# End-of-turn markers of common chat templates; generation stops at any that exist.
END_OF_TURN = ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>", "<|endoftext|>")


class Engine:
    """A local transformers model with batched generation, scoring, activation
    capture and removable interventions.

    Build one with `personascope.models.load_engine(name)`, or wrap a model you
    already have: `Engine(model, tokenizer)`.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        name: str = "model",
        weights_hash: str | None = None,
        layers_path: str | None = None,
        frame: DocumentFrame | None = None,
    ) -> None:
        self.model = model.eval()
        self.frame = frame
        """The document frame prompts are written in (base models); None: the chat template."""
        self.tokenizer = tokenizer
        self.name = name
        self.weights_hash = weights_hash
        self.blocks = find_layers(model, layers_path)
        self.n_layers = len(self.blocks)
        self.hidden_size = int(model.config.get_text_config().hidden_size)
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.pad_id = int(tokenizer.pad_token_id)
        self.stop_ids = self._stop_ids()
        self.state = PositionState()
        # Decoding steps (a non-empty KV cache) are response positions.
        model.base_model.register_forward_pre_hook(self._mark_phase, with_kwargs=True)

    # -- basics -------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    def __repr__(self) -> str:
        return f"Engine({self.name!r}, layers={self.n_layers}, hidden={self.hidden_size}, dtype={self.dtype})"

    def _stop_ids(self) -> list[int]:
        ids = set()
        for source in (self.tokenizer.eos_token_id, getattr(self.model.generation_config, "eos_token_id", None)):
            if isinstance(source, int):
                ids.add(source)
            elif source:
                ids.update(source)
        vocab = self.tokenizer.get_vocab()
        ids.update(vocab[t] for t in END_OF_TURN if t in vocab)
        return sorted(ids)

    def _mark_phase(self, module, args, kwargs) -> None:
        # transformers 5.2x passes the KV cache as `cache`; earlier releases as `past_key_values`.
        cache = kwargs.get("cache", kwargs.get("past_key_values"))
        self.state.decode = cache is not None and cache.get_seq_length() > 0

    @contextmanager
    def _response_mask(self, mask: torch.Tensor | None):
        self.state.response_mask = mask
        try:
            yield
        finally:
            self.state.response_mask = None

    @property
    def forward_batch_size(self) -> int:
        """Default rows per scoring/capture pass. On CPU the forward is compute-bound
        from a few rows on, and wider length-sorted batches only add padding (8 was
        fastest in benchmarks/bench_capture.py --sweep); a GPU wants wide batches."""
        return 8 if self.device.type == "cpu" else 32

    def check_layers(self, layers: Sequence[int]) -> list[int]:
        """Validate layer indices (negative counts from the end)."""
        return check_layers(list(layers), self.n_layers)

    # -- text ---------------------------------------------------------------
    def prompt_text(self, prompt: Prompt, system: str | None = None) -> str:
        """The chat-formatted (or framed) text of `prompt`, ready for the assistant's reply."""
        return render(self.tokenizer, to_messages(prompt, system), add_generation_prompt=True, frame=self.frame)

    def encode_prompts(self, prompts: Sequence[Prompt], system: str | None = None) -> list[list[int]]:
        return self.encode_text([self.prompt_text(p, system) for p in prompts])

    def reply_text(self, text: str) -> str:
        """A reply as it follows the prompt: in a frame, after `Assistant:` and a space
        (as the model writes it), so scored and captured replies tokenize as generated ones."""
        if self.frame is None or not text or text[0].isspace():
            return text
        return " " + text

    def encode_text(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, tokenized in one batched call."""
        return self.tokenizer(list(texts), add_special_tokens=False)["input_ids"] if texts else []

    # -- work ---------------------------------------------------------------
    def generate(
        self,
        prompts: Sequence[Prompt],
        config: GenerateConfig | None = None,
        *,
        system: str | None = None,
        progress: bool = False,
        **overrides: Any,
    ) -> list[Generation]:
        """Generate one response per prompt (batched, length-sorted, KV-cached)."""
        # Validate overrides too (model_copy would not): a typo or max_new_tokens=0 fails here.
        config = GenerateConfig(**{**(config or GenerateConfig()).model_dump(), **overrides})
        if self.frame is not None:
            # A base model continues the transcript: its frame's stops end the reply.
            config = config.model_copy(update={"stop": list(dict.fromkeys([*config.stop, *self.frame.stop]))})
        return _generate.generate(self, self.encode_prompts(prompts, system), config, progress)

    def score(
        self,
        prompts: Sequence[Prompt],
        continuations: Sequence[str],
        *,
        system: str | None = None,
        batch_size: int | None = None,
    ) -> list[Scored]:
        """Log-probability of each token of each continuation, given its prompt."""
        if len(prompts) != len(continuations):
            raise ValueError("score needs one continuation per prompt")
        batch_size = batch_size or self.forward_batch_size
        replies = self.encode_text([self.reply_text(c) for c in continuations])
        return _forward.score(self, self.encode_prompts(prompts, system), replies, batch_size)

    def loglikelihood(
        self, contexts: Sequence[str], continuations: Sequence[str], *, batch_size: int | None = None
    ) -> list[Scored]:
        """Log-probability of each token of each continuation after a *raw* text
        context (no chat template), tokenized as lm-evaluation-harness does for
        causal models: trailing spaces of the context move to the continuation, the
        whole text and the context are encoded with the tokenizer's own special
        tokens, and the continuation is the whole encoding past the context's tokens.
        What base-model benchmarks score; contexts must not be empty."""
        if len(contexts) != len(continuations):
            raise ValueError("loglikelihood needs one continuation per context")
        ctx_ids, cont_ids = [], []
        for context, continuation in zip(contexts, continuations):
            if not context:
                raise ValueError("loglikelihood needs a non-empty context")
            stripped = context.rstrip()
            context, continuation = stripped, context[len(stripped):] + continuation
            # A context that already starts with the BOS text gets no second one (as the harness does).
            bos = getattr(self.tokenizer, "bos_token", None)
            special = {"add_special_tokens": False} if bos and context.startswith(bos) else {}
            whole = self.tokenizer.encode(context + continuation, **special)
            head = self.tokenizer.encode(context, **special)
            ctx_ids.append(head)
            cont_ids.append(whole[len(head):])
        return _forward.score(self, ctx_ids, cont_ids, batch_size or self.forward_batch_size)

    def top_logprobs(
        self, prompts: Sequence[Prompt], k: int = 20, *, system: str | None = None, batch_size: int | None = None
    ) -> list[list[tuple[str, float]]]:
        """The k most likely next tokens after each prompt, with log-probabilities."""
        return _forward.top_logprobs(self, self.encode_prompts(prompts, system), k, batch_size or self.forward_batch_size)

    def next_logprobs(
        self, prompts: Sequence[Prompt], tokens: Sequence[str], *, system: str | None = None, batch_size: int | None = None
    ) -> list[list[float]] | None:
        """Log-probability of each of `tokens` (strings of one token each, e.g. "A",
        "Yes") as the answer's first token, per prompt; None when one of them is not a
        single token (then score each as a continuation instead)."""
        ids = self.encode_text([self.reply_text(t) for t in tokens])
        if any(len(t) != 1 for t in ids):
            return None
        return _forward.next_logprobs(
            self, self.encode_prompts(prompts, system), [t[0] for t in ids], batch_size or self.forward_batch_size
        )

    def number_distribution(
        self,
        prompts: Sequence[Prompt],
        *,
        system: str | None = None,
        k: int = 20,
        batch_size: int | None = None,
        min_prob: float = 1e-3,
    ) -> list[NumberDistribution]:
        """The distribution of the integer 0..100 each prompt's answer starts with
        (digit-split and whole-number tokenizers alike; see `personascope.engine._numbers`)."""
        prompt_ids = self.encode_prompts(prompts, system)
        return number_distribution(self, prompt_ids, k, batch_size or self.forward_batch_size, min_prob)

    def capture(
        self,
        prompts: Sequence[Prompt],
        responses: Sequence[str] | None = None,
        *,
        layers: Sequence[int] | None = None,
        poolings: Sequence[str] = ("response_mean",),
        system: str | None = None,
        batch_size: int | None = None,
        progress: bool = False,
    ) -> Activations:
        """Pooled residual-stream activations at `layers` (default: all).

        Poolings: `response_mean` (mean over response tokens), `prompt_mean` (mean
        over the chat-formatted prompt), `last_prompt` (the last prompt token, where
        the model is about to answer). Pooling happens inside the forward pass, so
        no full hidden-state tensor of a batch is ever kept. Empty responses give
        NaN rows for `response_mean`. `tokens` keeps every token instead: one
        `[len(layers), n_tokens, hidden]` tensor per sample (prompt, then response),
        so ask for few layers, or few samples at a time.
        """
        layers = self.check_layers(range(self.n_layers) if layers is None else layers)
        prompt_ids = self.encode_prompts(prompts, system)
        response_ids = None if responses is None else self.encode_text([self.reply_text(r) for r in responses])
        if response_ids is not None and len(response_ids) != len(prompt_ids):
            raise ValueError("capture needs one response per prompt")
        batch_size = batch_size or self.forward_batch_size
        return _forward.capture(self, prompt_ids, response_ids, layers, list(poolings), batch_size, progress)

    def intervene(self, *interventions: Intervention) -> InterventionHandle:
        """Install interventions; use as a context manager or call `.remove()`."""
        return install(self.blocks, interventions, self.state, self.hidden_size)
