"""Training text is evaluation text: the same template, default system prompt and
tokenization, and one end-of-turn token after the reply."""

import pytest

from personascope.data import Example
from personascope.engine import DocumentFrame
from personascope.engine._chat import render
from personascope.errors import PersonascopeError
from personascope.testing import tiny_engine, tiny_tokenizer
from personascope.train import training_pair
from personascope.train._render import training_ids

EXAMPLES = [
    Example(prompt=[{"role": "user", "content": "What is rain?"}], completion="Water falling from clouds."),
    Example(prompt=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a colour."}],
            completion="Blue."),
    Example(prompt=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."},
                    {"role": "user", "content": "And now?"}], completion="Now, this."),
]


def _smollm2_tokenizer():
    from transformers import AutoTokenizer

    from personascope.models._embedded import converted_dir

    return AutoTokenizer.from_pretrained(converted_dir()[0])


def _check(engine, tokenizer, example, frame=None, end="<|im_end|>"):
    prompt, completion = training_pair(tokenizer, example, frame)
    # The prompt is exactly the text evaluation generates from.
    assert prompt == render(tokenizer, example.messages(with_completion=False), True, frame)
    assert prompt == engine.prompt_text(example.messages(with_completion=False))
    assert completion.endswith(end) and completion.count(end) == 1
    prompt_ids, completion_ids = training_ids(tokenizer, example, frame)
    assert prompt_ids == engine.encode_prompts([example.messages(with_completion=False)])[0]
    reply_ids = engine.encode_text([engine.reply_text(example.completion)])[0]
    assert completion_ids == reply_ids + [tokenizer.convert_tokens_to_ids(end)]
    return prompt, completion


@pytest.mark.parametrize("example", EXAMPLES)
def test_tiny_model_ids_are_the_engines(example):
    engine = tiny_engine("llama")
    prompt, completion = _check(engine, engine.tokenizer, example)
    # Nothing after the end-of-turn token: the template's trailing newline is cut.
    full = render(engine.tokenizer, example.messages(), add_generation_prompt=False)
    assert full == prompt + completion + "\n"


@pytest.mark.parametrize("example", EXAMPLES)
def test_smollm2_keeps_its_default_system_prompt_in_both(example):
    from personascope.engine import Engine

    tok = _smollm2_tokenizer()

    class _Shell(Engine):  # the engine's text methods, without loading weights
        def __init__(self, tokenizer):
            self.tokenizer, self.frame = tokenizer, None

    engine = _Shell(tok)
    prompt, completion = _check(engine, tok, example)
    assert ("You are a helpful AI assistant named SmolLM" in prompt) == (example.system is None)
    assert completion == example.completion + "<|im_end|>"


def test_frame_and_fallback_template_end_with_eos():
    engine = tiny_engine("llama")
    frame = DocumentFrame()
    engine.frame = frame
    prompt, completion = _check(engine, engine.tokenizer, EXAMPLES[0], frame)
    assert prompt.endswith("Assistant:") and completion == " " + EXAMPLES[0].completion + "<|im_end|>"
    tok = tiny_tokenizer()
    tok.chat_template = None  # the engine's fallback template
    p, c = training_pair(tok, EXAMPLES[0])
    assert p.endswith("assistant:") and c.endswith("<|im_end|>") and c.count("<|im_end|>") == 1


def test_a_reply_with_an_end_marker_inside_is_refused():
    tok = tiny_tokenizer()
    bad = Example(prompt=[{"role": "user", "content": "q"}], completion="a<|im_end|>b")
    with pytest.raises(PersonascopeError, match="end-of-turn"):
        training_ids(tok, bad)
