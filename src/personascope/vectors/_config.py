"""How a persona vector is extracted: one pydantic config, saved into the vector's metadata."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FilterPolicy = Literal["auto", "always", "never"]

SANITY_MIN_AUROC = 0.7
"""Below this the judge cannot tell prompted positives from negatives, so `auto` does not filter."""


class ExtractConfig(BaseModel):
    """Settings of `extract_vector` (also the fields of the `vectors` study step)."""

    model_config = ConfigDict(extra="forbid")

    samples: int = Field(1, ge=1)
    """Responses per (instruction pair, question) and side; more than one needs temperature > 0."""
    max_tokens: int = Field(64, ge=1)
    """Most tokens per generated response."""
    temperature: float = Field(0.0, ge=0.0)
    """0 decodes greedily; above 0 samples, with seed `seed + k` for the k-th sample."""
    seed: int = 0
    """Base seed for sampled generation."""
    n_pairs: int | None = Field(None, ge=1)
    """Use only the first N instruction pairs of the trait (None: all)."""
    n_questions: int | None = Field(None, ge=1)
    """Use only the first N extraction questions (None: all)."""
    eval_questions: int = Field(10, ge=2)
    """Held-out eval questions answered on each side for the per-layer quality check."""
    judge: bool = True
    """Score every response with the trait and coherence judges (`--no-judge` turns it off)."""
    filter: FilterPolicy = "auto"
    """`auto` filters only when the judge sanity check passes; `always` filters; `never` keeps all."""
    pos_min: float = Field(50.0, ge=0, le=100)
    """A positive response is kept when its trait score is at least this."""
    neg_max: float = Field(50.0, ge=0, le=100)
    """A negative response is kept when its trait score is below this (strictly, as persona_vectors does)."""
    coherence_min: float = Field(50.0, ge=0, le=100)
    """Either response is kept only when its coherence score is at least this."""
    sanity_min_auroc: float = Field(SANITY_MIN_AUROC, ge=0.5, le=1.0)
    """The judge passes its sanity check when its scores separate the two sides with this AUROC."""
    min_pairs: int = Field(4, ge=1)
    """Fewest positive/negative pairs that must survive filtering; fewer is an error."""
    select_layer_by: Literal["text_only", "in_context"] = "text_only"
    """Which held-out reading picks the layer: the response text alone (what a monitor sees), or the response
    after its eliciting system prompt (reads higher: the prompt itself separates the sides)."""
    batch_size: int = Field(16, ge=1)
    """Prompts per generation pass (changes speed, not results in the cache's view)."""

    @model_validator(mode="after")
    def _check(self) -> "ExtractConfig":
        if self.samples > 1 and self.temperature == 0:
            raise ValueError("samples > 1 with temperature 0 repeats the same greedy answer: set temperature > 0")
        return self
