"""`DatasetSpec`: where a training step's data comes from, in its config.

    dataset: {path: data/insecure.jsonl}
    dataset: {generate: {questions: train, transforms: [opener, caps], n: 64}}
    dataset: {persona: {trait: evil, max_tokens: 64}}

`build_dataset(spec, model, env)` is all a step calls: it reads or generates the
examples (generation through the env's call cache) and returns them with their
provenance.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from personascope.data._format import dataset_digest, read_dataset, read_provenance
from personascope.data._questions import BUILTIN_QUESTIONS, load_questions
from personascope.data._transforms import transform_names
from personascope.errors import PersonascopeError


def _checked(names: list[str]) -> list[str]:
    try:
        return transform_names(names) if names else names
    except PersonascopeError as exc:
        raise ValueError(str(exc)) from None


class _Answers(BaseModel):
    """What every generated dataset sets: how many answers, their traits, decoding, the writer."""

    model_config = ConfigDict(extra="forbid")

    n: int | None = Field(None, ge=1)
    """Use the first n questions (default: all)."""
    transforms: list[str] = Field(default_factory=list)
    """Toy traits to write in: opener, signoff, caps, and short (first sentence only); any order, see personascope.data.TRANSFORMS."""
    max_tokens: int = Field(64, ge=1)
    """Max new tokens per answer."""
    temperature: float = Field(0.0, ge=0.0)
    """Sampling temperature; 0 decodes greedily."""
    model: str | None = None
    """Model that writes the answers (default: the step's model)."""

    @field_validator("transforms")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        return _checked(v)


class GenerateSource(_Answers):
    """A toy-trait dataset: the model's answers to a question set, transformed."""

    questions: str | list[str] = "train"
    """A built-in question set (train, heldout), a .yaml/.json/.txt file, or a list."""
    system: str | None = None
    """System prompt to generate under (never stored in the examples)."""


class PersonaSource(_Answers):
    """A persona dataset: answers under a trait's positive instructions, stored without them."""

    trait: str
    """A built-in trait name or a trait spec file."""
    questions: str | list[str] | None = None
    """Questions to answer (default: the trait's extraction questions)."""
    system: str | None = None
    """Generate under this system prompt instead of the trait's positive instructions
    (recontextualization sets it: a prompt that discourages the trait)."""


class DatasetSpec(BaseModel):
    """Exactly one of `path`, `generate` or `persona`."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = None
    """A chat JSONL file (see docs/data.md), relative to the config file."""
    generate: GenerateSource | None = None
    """Generate a toy-trait dataset from a model's answers."""
    persona: PersonaSource | None = None
    """Generate a persona dataset under a trait's positive instructions."""

    @model_validator(mode="after")
    def _one(self) -> "DatasetSpec":
        given = [k for k in ("path", "generate", "persona") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of path, generate or persona (got {', '.join(given) or 'none'})")
        return self


def build_dataset(spec: DatasetSpec, model, env) -> tuple[list, dict[str, Any]]:
    """The examples `spec` describes and their provenance (with `dataset_digest`)."""
    from personascope.data._generate import generate_dataset, persona_dataset

    if spec.path is not None:
        path = env.resolve(spec.path)
        examples = read_dataset(path)
        provenance = {**(read_provenance(path) or {}), "path": str(path)}
    else:
        source = spec.generate or spec.persona
        writer = env.model(source.model) if source.model else model
        fields = source.model_dump(exclude={"model"})
        questions = fields["questions"]
        if isinstance(questions, str) and questions not in BUILTIN_QUESTIONS:
            fields["questions"] = questions = str(env.resolve(questions))
        if spec.persona is not None:
            from personascope.traits import list_traits, load_trait

            if spec.persona.trait not in list_traits():
                fields["trait"] = str(env.resolve(spec.persona.trait))
            if questions is None:
                questions = load_trait(fields["trait"]).questions.extract
        label = "generate dataset" if spec.generate else f"persona dataset ({source.trait})"
        total = source.n or len(load_questions(questions) if isinstance(questions, str) else questions)
        with env.progress(label, total) as advance:
            if spec.generate is not None:
                examples, provenance = generate_dataset(writer, seed=env.seed, cache=env.cache, progress=advance, **fields)
            else:
                examples, provenance = persona_dataset(writer, seed=env.seed, cache=env.cache, progress=advance, **fields)
    return examples, {**provenance, "dataset_digest": dataset_digest(examples)}
