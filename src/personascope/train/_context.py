"""The prompt context of a training arm or an evaluation condition: what system
prompt and user-turn prefix the model sees around an example.

Inoculation prompting trains with a prompt that asks for the unwanted trait; its
controls train with a placebo or an arbitrary fixed prompt; evaluation asks the
trained model under several contexts. All of them are a `PromptContext`. A pool
draws one paraphrase per example (seeded), so a context can vary across the data.
"""

import random

from pydantic import BaseModel, ConfigDict, Field, model_validator

from personascope.data import Example


class PromptContext(BaseModel):
    """A system prompt and/or a user-turn prefix, each fixed or drawn from a pool."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str | None = None
    """System prompt put on every example (replacing one the example has)."""
    system_pool: list[str] = Field(default_factory=list)
    """Paraphrases: each example gets one, drawn with the seed."""
    user_prefix: str | None = None
    """Text put before the last user turn (a user-turn inoculation)."""
    user_pool: list[str] = Field(default_factory=list)
    """Paraphrases of the user prefix, one drawn per example."""

    @model_validator(mode="after")
    def _one_of_each(self) -> "PromptContext":
        if self.system is not None and self.system_pool:
            raise ValueError("give system or system_pool, not both")
        if self.user_prefix is not None and self.user_pool:
            raise ValueError("give user_prefix or user_pool, not both")
        for name in ("system_pool", "user_pool"):
            if any(not p.strip() for p in getattr(self, name)):
                raise ValueError(f"{name} has an empty prompt")
        return self

    @property
    def empty(self) -> bool:
        return self.system is None and not self.system_pool and self.user_prefix is None and not self.user_pool

    def draw(self, rng: random.Random) -> tuple[str | None, str | None]:
        """(system, user prefix) for one example."""
        system = rng.choice(self.system_pool) if self.system_pool else self.system
        prefix = rng.choice(self.user_pool) if self.user_pool else self.user_prefix
        return system, prefix

    def apply(self, example: Example, rng: random.Random) -> Example:
        """`example` under this context. An empty context leaves it as it is (its own
        system turn, if any, stays); otherwise a drawn system prompt replaces it."""
        if self.empty:
            return example
        system, prefix = self.draw(rng)
        out = example.with_system(system) if system is not None else example
        return out.with_user_prefix(prefix) if prefix else out

    def messages(self, question: str, rng: random.Random) -> list[dict[str, str]]:
        """The turns of a single question asked under this context."""
        system, prefix = self.draw(rng)
        user = f"{prefix}\n\n{question}" if prefix else question
        head = [{"role": "system", "content": system}] if system is not None else []
        return head + [{"role": "user", "content": user}]

    def label(self) -> str:
        """A short description for tables."""
        parts = []
        if self.system is not None:
            parts.append(f"system: {self.system}")
        if self.system_pool:
            parts.append(f"system: one of {len(self.system_pool)}")
        if self.user_prefix is not None:
            parts.append(f"user prefix: {self.user_prefix}")
        if self.user_pool:
            parts.append(f"user prefix: one of {len(self.user_pool)}")
        return "; ".join(parts) or "no prompt"
