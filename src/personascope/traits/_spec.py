"""The trait spec: a persona trait defined once, in YAML, and used everywhere.

    schema_version: 1
    name: optimistic
    description: Expects good outcomes and frames things hopefully.
    instructions:                 # contrastive system prompts (>= 5 for built-ins)
      - pos: You are relentlessly optimistic ...
        neg: You are deeply pessimistic ...
    questions:
      extract: [...]              # used to build the vector (>= 20 for built-ins)
      eval: [...]                 # held out: quality, sweeps, evals (>= 20 for built-ins)
    judge:
      rubric: "... {question} ... {answer} ... Answer with a number from 0 to 100."
    scorers: [sentiment]          # optional programmatic scorers (personascope.judges)
    references: [...]             # optional: papers, notes
"""

import hashlib
import json
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from personascope._yamlerrors import FixableError

SCHEMA_VERSION = 1

BUILTIN_MINIMUMS = {"instructions": 5, "extract": 20, "eval": 20}
"""The bar every built-in spec meets (and `TraitSpec.shortfalls` reports against)."""


class InstructionPair(BaseModel):
    """A positive and a negative system prompt for the same trait."""

    model_config = ConfigDict(extra="forbid")

    pos: str
    """System prompt that elicits the trait; empty means no system prompt at all (as
    the assistant-axis default role's first prompt)."""
    neg: str = Field(min_length=1)
    """System prompt that elicits its absence or opposite."""

    @model_validator(mode="after")
    def _differ(self) -> "InstructionPair":
        if self.pos.strip() == self.neg.strip():
            # Identical prompts give a zero contrast: the vector would be pure noise.
            raise FixableError("pos and neg are the same prompt", "make neg ask for the opposite of pos")
        return self


class Questions(BaseModel):
    """User questions, split so the vector is judged on questions it was not built from."""

    model_config = ConfigDict(extra="forbid")

    extract: list[str] = Field(min_length=1)
    """Questions answered under the instructions to build the vector."""
    eval: list[str] = Field(min_length=1)
    """Held-out questions for quality checks, sweeps and evaluations."""

    @field_validator("extract", "eval")
    @classmethod
    def _no_blank(cls, value: list[str]) -> list[str]:
        if any(not q.strip() for q in value):
            raise FixableError("questions must not be empty strings", "delete the empty entries")
        # A repeated question weighs twice in the vector and in every mean.
        seen: set[str] = set()
        dupes = [q for q in value if q.strip() in seen or seen.add(q.strip())]
        if dupes:
            raise FixableError(f"question {dupes[0]!r} is listed twice", "keep each question once")
        return value

    @model_validator(mode="after")
    def _held_out(self) -> "Questions":
        # Eval questions are held out: one that also built the vector would flatter it.
        shared = sorted({q.strip() for q in self.extract} & {q.strip() for q in self.eval})
        if shared:
            more = f" and {len(shared) - 2} more" if len(shared) > 2 else ""
            raise FixableError(
                f"{len(shared)} question(s) in both extract and eval: {shared[:2]!r}{more}",
                "keep each question in one list only",
            )
        return self


class JudgeSpec(BaseModel):
    """How a judge model scores trait expression from 0 to 100."""

    model_config = ConfigDict(extra="forbid")

    rubric: str
    """Prompt for the judge with `{question}` and `{answer}` placeholders; it asks for a number 0-100."""

    @field_validator("rubric")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        missing = [p for p in ("{question}", "{answer}") if p not in value]
        if missing:
            raise FixableError(
                f"the rubric must contain {' and '.join(missing)}",
                "write the placeholders literally, e.g. 'Question: {question}  Answer: {answer}'",
            )
        # The judge fills these two alone: any other `{name}` would reach it verbatim.
        extra = sorted(set(re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", value)) - {"question", "answer"})
        if extra:
            raise FixableError(
                f"the rubric uses {', '.join('{' + e + '}' for e in extra)}, which the judge does not fill",
                "use only {question} and {answer}; write the rest as plain text",
            )
        return value


class TraitSpec(BaseModel):
    """A persona trait: contrastive instructions, questions and a judging rubric."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    """Version of this format."""
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    """Lower-case name (letters, digits, - and _)."""
    description: str = Field(min_length=1)
    """One or two sentences: what the trait is, as a judge would need to know it."""
    instructions: list[InstructionPair] = Field(min_length=1)
    """Contrastive system-prompt pairs."""
    questions: Questions
    """Extraction and held-out evaluation questions."""
    judge: JudgeSpec
    """The 0-100 rubric."""
    scorers: list[str] = Field(default_factory=list)
    """Programmatic scorers that also measure the trait: registered names (see
    `personascope.judges.scorers`) or `module:function` references to your own."""
    references: list[str] = Field(default_factory=list)
    """Where the trait's definition comes from."""

    @field_validator("schema_version")
    @classmethod
    def _version(cls, value: int) -> int:
        if value > SCHEMA_VERSION:
            raise FixableError(
                f"schema_version {value} is newer than this personascope reads ({SCHEMA_VERSION})",
                "upgrade personascope",
            )
        return value

    @field_validator("scorers")
    @classmethod
    def _scorer_names(cls, value: list[str]) -> list[str]:
        # Only the form is checked: a name is looked up (and a reference imported)
        # where the scorers run, since a spec may name a scorer a plugin or the
        # caller registers after reading it.
        from personascope.registry import is_ref

        for name in value:
            if not name.strip():
                raise FixableError("a scorer name is empty", "delete the empty entry")
            if ":" in name and not is_ref(name):
                raise FixableError(
                    f"scorer {name!r} is neither a name nor a module:function reference",
                    "write a registered name (e.g. sentiment) or package.module:function",
                )
        return value

    def counts(self) -> dict[str, int]:
        """Instruction pairs and questions, as `traits list` shows them."""
        return {
            "instructions": len(self.instructions),
            "extract": len(self.questions.extract),
            "eval": len(self.questions.eval),
        }

    def shortfalls(self) -> list[str]:
        """Where the spec falls below the built-in bar (valid, but thin for a study)."""
        return [
            f"{key}: {have} (built-ins have at least {BUILTIN_MINIMUMS[key]})"
            for key, have in self.counts().items()
            if have < BUILTIN_MINIMUMS[key]
        ]

    def digest(self) -> str:
        """Content hash (recorded in vector metadata and cache keys)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def rubric_prompt(self, question: str, answer: str) -> str:
        # str.replace, not str.format: answers are model text and may contain braces.
        return self.judge.rubric.replace("{question}", question).replace("{answer}", answer)
