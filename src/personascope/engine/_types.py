"""Engine configs and results."""

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class GenerateConfig(BaseModel):
    """How to generate. Temperature 0 means greedy decoding."""

    model_config = ConfigDict(extra="forbid")

    max_new_tokens: int = Field(128, ge=1)
    """Upper bound on generated tokens per response."""
    temperature: float = Field(0.0, ge=0.0)
    """Sampling temperature; 0 decodes greedily."""
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    """Nucleus sampling mass (only when sampling)."""
    seed: int | None = None
    """Seed for sampling; the same prompts, batch size and seed give the same text."""
    stop: list[str] = Field(default_factory=list)
    """Extra stop strings; generation always stops at the end-of-turn token."""
    logprobs: bool = False
    """Return the log-probability of each generated token (under the raw logits)."""
    top_logprobs: int = Field(0, ge=0, le=50)
    """Also return the k most likely tokens at each step."""
    batch_size: int = Field(16, ge=1)
    """Prompts per forward pass; batches are formed from length-sorted prompts."""


@dataclass
class Generation:
    """One generated response."""

    text: str
    token_ids: list[int]
    finish_reason: Literal["stop", "length"]
    prompt_tokens: int
    logprobs: list[float] | None = None
    top_logprobs: list[list[tuple[str, float]]] | None = None


@dataclass
class Scored:
    """Per-token log-probabilities of a given continuation."""

    tokens: list[str]
    token_ids: list[int]
    logprobs: list[float]

    @property
    def total(self) -> float:
        return float(sum(self.logprobs))


Pooling = Literal["response_mean", "prompt_mean", "last_prompt", "tokens"]
POOLINGS: tuple[str, ...] = ("response_mean", "prompt_mean", "last_prompt", "tokens")


@dataclass
class Activations:
    """Pooled activations: `data[pooling]` has shape `[n_samples, len(layers), hidden]`.

    `data["tokens"]` (no pooling: every token) is a list with one
    `[len(layers), n_tokens, hidden]` tensor per sample, its chat-formatted prompt
    tokens then its response tokens, since samples differ in length.
    """

    layers: list[int]
    data: dict[str, "object"] = field(default_factory=dict)

    def __getitem__(self, pooling: str):
        return self.data[pooling]
