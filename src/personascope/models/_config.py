"""A model as a config names it: a name plus how to load it."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from personascope.engine._chat import DocumentFrame


class ModelConfig(BaseModel):
    """A model with its loading options (a study's `models:` entry, or a second model
    such as a judge or a simulated user)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    """Any personascope model name: `smollm2`, `hf/<path-or-id>` (a checkpoint or a
    PEFT adapter directory), `run:<RUN>/<artifact path>`, or an Inspect model string."""
    dtype: str = "auto"
    """White-box only: auto (bf16 on GPU, fp32 on CPU), float32, bfloat16 or float16."""
    device: str = "auto"
    """White-box only: auto, cpu, cuda, cuda:1, ..."""
    layers_path: str | None = None
    """White-box only: dotted path to the decoder blocks, for architectures we do not know."""
    frame: DocumentFrame | None = None
    """White-box only: the document frame prompts are written in instead of a chat
    template (base models). Default: a transcript frame for `gemma3-base`, none otherwise."""
    args: dict[str, Any] = Field(default_factory=dict)
    """Black-box only: arguments for Inspect's `get_model` (e.g. `base_url`), and the
    call limits `timeout`, `attempt_timeout`, `max_retries` (docs/inspect.md)."""
