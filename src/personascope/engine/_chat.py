"""Turning prompts into model text: a chat template, or a document frame for base models."""

from typing import Any

from pydantic import BaseModel, ConfigDict

Message = dict[str, str]
Prompt = str | list[Message]
"""A prompt is a user message, or a whole conversation as role/content dicts."""

# For models without a chat template and without a frame (tiny test models).
FALLBACK_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


class DocumentFrame(BaseModel, frozen=True):
    """How a base model (no chat template) sees a conversation: a document, such as a
    transcript, that the assistant's reply continues."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    header: str = "The following is a conversation between a user and an AI assistant.\n\n"
    """Text before the first turn."""
    user: str = "User"
    """Speaker label of user turns."""
    assistant: str = "Assistant"
    """Speaker label of assistant turns; a prompt ends with it and a colon."""
    system: str = "System"
    """Speaker label of a system prompt (written as the first turn)."""
    stop: tuple[str, ...] = ("\nUser:", "\n\nUser:")
    """Strings that end a reply, so the model does not write the next user turn."""

    def render(self, messages: list[Message], add_generation_prompt: bool = True, bos: str | None = None) -> str:
        labels = {"user": self.user, "assistant": self.assistant, "system": self.system}
        lines = []
        for m in messages:
            label = labels.get(m["role"], m["role"].capitalize())
            lines.append(f"{label}: {m['content']}\n")
        text = (bos or "") + self.header + "".join(lines)
        return text + f"{self.assistant}:" if add_generation_prompt else text


def to_messages(prompt: Prompt, system: str | None = None) -> list[Message]:
    """A prompt as a message list, with `system` prepended unless one is there."""
    if isinstance(prompt, str):
        messages = [{"role": "user", "content": prompt}]
    else:
        messages = [dict(m) for m in prompt]
    if system is not None and not (messages and messages[0].get("role") == "system"):
        messages.insert(0, {"role": "system", "content": system})
    return messages


def render(
    tokenizer: Any, messages: list[Message], add_generation_prompt: bool = True, frame: DocumentFrame | None = None
) -> str:
    """Model text for `messages`: the document `frame` when given (with the BOS token a
    template would add), else the chat template (it adds any BOS token itself)."""
    if frame is not None:
        return frame.render(messages, add_generation_prompt, _bos(tokenizer))
    template = None if getattr(tokenizer, "chat_template", None) else FALLBACK_TEMPLATE
    return tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=add_generation_prompt, chat_template=template
    )


def _bos(tokenizer: Any) -> str | None:
    """The BOS token when the tokenizer itself would start plain text with it (Gemma
    does, many byte-level tokenizers do not): the engine encodes framed text without
    special tokens, so the frame writes it."""
    if tokenizer.bos_token_id is None:
        return None
    ids = tokenizer("a", add_special_tokens=True)["input_ids"]
    return tokenizer.bos_token if ids and ids[0] == tokenizer.bos_token_id else None
