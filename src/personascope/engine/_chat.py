"""Turning prompts into chat-formatted text."""

from typing import Any

Message = dict[str, str]
Prompt = str | list[Message]
"""A prompt is a user message, or a whole conversation as role/content dicts."""

# For models without a chat template (base models, tiny test models).
FALLBACK_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


def to_messages(prompt: Prompt, system: str | None = None) -> list[Message]:
    """A prompt as a message list, with `system` prepended unless one is there."""
    if isinstance(prompt, str):
        messages = [{"role": "user", "content": prompt}]
    else:
        messages = [dict(m) for m in prompt]
    if system is not None and not (messages and messages[0].get("role") == "system"):
        messages.insert(0, {"role": "system", "content": system})
    return messages


def render(tokenizer: Any, messages: list[Message], add_generation_prompt: bool = True) -> str:
    """Chat-template text for `messages` (the template adds any BOS token itself)."""
    template = None if getattr(tokenizer, "chat_template", None) else FALLBACK_TEMPLATE
    return tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=add_generation_prompt, chat_template=template
    )
