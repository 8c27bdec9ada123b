"""The text and tokens a training example becomes: exactly what evaluation sees.

The prompt is `engine.render(..., add_generation_prompt=True)`, the text every
generation, score and capture starts from, so the template's default system
prompt (SmolLM2 adds one when there is none) is there in training as in
evaluation. The completion is what the chat template writes after that prompt for
the whole conversation, cut after the one end-of-turn token generation stops at:
a newline a template writes after it is never seen by evaluation, so it is not
trained on. Prompt and completion are tokenized apart, without special tokens,
as the engine tokenizes a prompt and a scored reply.
"""

from typing import Any

from personascope.data import Example
from personascope.errors import PersonascopeError


def _end_markers(tokenizer: Any) -> list[str]:
    """End-of-turn tokens this tokenizer has, in the engine's order, then its EOS."""
    from personascope.engine._engine import END_OF_TURN

    vocab = tokenizer.get_vocab()
    found = [t for t in END_OF_TURN if t in vocab]
    eos = tokenizer.eos_token
    return found + ([eos] if eos and eos not in found else [])


def training_pair(tokenizer: Any, example: Example, frame: Any = None) -> tuple[str, str]:
    """(prompt text, completion text) of `example`, rendered as evaluation renders it;
    the completion text ends with exactly one end-of-turn token."""
    from personascope.engine._chat import render

    prompt = render(tokenizer, example.messages(with_completion=False), add_generation_prompt=True, frame=frame)
    full = render(tokenizer, example.messages(), add_generation_prompt=False, frame=frame)
    if not full.startswith(prompt):
        raise PersonascopeError(
            "the chat template renders a conversation's earlier turns differently from the prompt it generates from, "
            "so training text cannot equal evaluation text (fix: use a model whose template renders a prompt as a "
            "prefix of the conversation, or give the model a document frame)"
        )
    tail = full[len(prompt):]
    at = tail.find(example.completion)
    if at < 0:
        raise PersonascopeError(
            f"the chat template rewrites the reply {example.completion[:40]!r} (it trims or reformats it) "
            "(fix: strip leading and trailing whitespace from the dataset's completions)"
        )
    reply = tail[: at + len(example.completion)]
    after = tail[at + len(example.completion):]
    markers = _end_markers(tokenizer)
    # The template's own end-of-turn token where it writes one right after the reply;
    # otherwise (no template marker: the fallback template, a document frame) the EOS
    # token, which generation also stops at.
    written = next((m for m in markers if after.startswith(m)), None)
    end = written or (tokenizer.eos_token if tokenizer.eos_token else None)
    if end is None:
        raise PersonascopeError(
            "the tokenizer has no end-of-turn or EOS token, so a trained reply could not end "
            "(fix: set the tokenizer's eos_token)"
        )
    return prompt, reply + end


def training_ids(tokenizer: Any, example: Example, frame: Any = None) -> tuple[list[int], list[int]]:
    """Token ids of the prompt and of the completion (ending with the end-of-turn id),
    tokenized as the engine tokenizes a prompt and a reply."""
    prompt, completion = training_pair(tokenizer, example, frame)
    prompt_ids, completion_ids = tokenizer([prompt, completion], add_special_tokens=False)["input_ids"]
    end_id = tokenizer.convert_tokens_to_ids(_end_of(completion, tokenizer))
    if not completion_ids or completion_ids[-1] != end_id or completion_ids.count(end_id) != 1:
        raise PersonascopeError(
            f"the reply {example.completion[:40]!r} does not tokenize to text then one end-of-turn token "
            "(fix: remove end-of-turn markers from the dataset's completions)"
        )
    return list(prompt_ids), list(completion_ids)


def _end_of(completion: str, tokenizer: Any) -> str:
    return next(m for m in [*_end_markers(tokenizer), tokenizer.eos_token] if m and completion.endswith(m))
