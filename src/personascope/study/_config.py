"""Study configs: YAML in, validated `Study` out, or errors naming file, line, field and fix."""

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from personascope._yamlerrors import FixableError, YamlErrors, load_yaml, read_text
from personascope.errors import PersonascopeError
from personascope.models import ModelConfig, parse_model_name
from personascope import registry
from personascope.protocol import Step

SCHEMA_VERSION = 1


class StudyHeader(BaseModel):
    """The top level of a study file (steps are validated by their own types)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    """Version of this format."""
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    """Name of the study; run directories start with it."""
    description: str = ""
    """One or two sentences for the report's summary."""
    models: dict[str, ModelConfig | str] | list[str] = Field(default_factory=lambda: {"smollm2": "smollm2"})
    """Models by alias (`alias: name` or `alias: {name: ..., dtype: ...}`), or a list of names."""
    seed: int = 0
    """Default seed of every step."""
    steps: list[dict[str, Any]] = Field(min_length=1)
    """The steps; each has `id`, `type` and its type's fields."""
    allow_other_model: bool = False
    """Apply vectors whose meta.json names another model than the one a step runs on."""

    @field_validator("schema_version")
    @classmethod
    def _version(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            fix = "upgrade personascope" if value > SCHEMA_VERSION else f"write schema_version: {SCHEMA_VERSION}"
            raise FixableError(f"schema_version {value} is not one this personascope reads ({SCHEMA_VERSION})", fix)
        return value


class Study(BaseModel):
    """A validated study: models by alias and steps in dependency order."""

    name: str
    description: str
    seed: int
    models: dict[str, ModelConfig]
    steps: list[Step]
    """In the order they run (every step after the steps it depends on)."""
    source: Path | None = None
    """The YAML file it came from; relative paths in steps resolve against its folder."""

    @property
    def base_dir(self) -> Path:
        return self.source.parent if self.source else Path.cwd()

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    def dependencies(self, step: Step) -> list[str]:
        ids = {s.id for s in self.steps}
        return sorted(set(step.needs) | (step.references() & ids))

    def step_models(self, step: Step) -> list[str]:
        if step.model is None:
            return list(self.models)
        return [step.model] if isinstance(step.model, str) else list(step.model)

    def resolved(self) -> dict:
        """The config as it will run (defaults filled in), for the manifest."""
        return {
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "description": self.description,
            "seed": self.seed,
            "models": {k: m.model_dump() for k, m in self.models.items()},
            "steps": [s.model_dump() for s in self.steps],
        }

    def config_hash(self) -> str:
        text = json.dumps(self.resolved(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# -- errors -----------------------------------------------------------------
class _Errors(YamlErrors):
    def __init__(self, file: str, text: str) -> None:
        super().__init__(file, text, what="study config", docs="docs/studies.md")


# -- loading ----------------------------------------------------------------
def load_study(path: str | Path, *, check_files: bool = True) -> Study:
    """Read and validate a study file; every problem found is reported at once."""
    path = Path(path)
    if path.is_dir():
        yamls = sorted(p.name for p in path.glob("*.y*ml"))
        hint = f"give one of its files, e.g. {path / yamls[0]}" if yamls else "give the study's .yaml file, not its folder"
        raise PersonascopeError(f"{path} is a directory, not a study config (fix: {hint})")
    if not path.is_file():
        raise PersonascopeError(f"no such study config: {path}")
    text = read_text(path, "study config")
    raw = load_yaml(text, str(path))
    return parse_study(raw, file=str(path), text=text, source=path.resolve(), check_files=check_files)


def parse_study(raw: Any, *, file: str = "<config>", text: str = "", source: Path | None = None, check_files: bool = True) -> Study:
    errors = _Errors(file, text)
    if not isinstance(raw, dict):
        errors.add((), "a study config is a mapping with name, models and steps", "start from examples/quickstart.yaml")
        errors.raise_if_any()
    try:
        header = StudyHeader.model_validate(raw)
    except ValidationError as exc:
        errors.add_pydantic(exc, fields=list(StudyHeader.model_fields))
        errors.raise_if_any()
        raise AssertionError("unreachable")

    models = _models(header, errors)
    # Only the types this file uses are imported; `module:Class` names user code.
    types = registry.names("step")
    steps: list[Step] = []
    positions: list[int] = []  # each parsed step's index in the file
    for i, raw_step in enumerate(header.steps):
        kind = raw_step.get("type")
        try:
            cls = _step_class(kind) if isinstance(kind, str) else None
        except PersonascopeError as exc:
            errors.add(("steps", i, "type"), str(exc), "check the module is on the Python path and names a Step class")
            continue
        if cls is None:
            if kind is None:
                errors.add(("steps", i), "step has no 'type'", f"add type: one of {', '.join(sorted(types))}")
            else:
                errors.add(("steps", i, "type"), f"unknown step type {kind!r}",
                           f"use one of: {', '.join(sorted(types))}, or module:Class for your own")
            continue
        try:
            steps.append(cls.model_validate(raw_step))
            positions.append(i)
        except ValidationError as exc:
            errors.add_pydantic(exc, ("steps", i), fields=list(cls.model_fields))

    # Cross-checks run on the steps that parsed, so one pass reports every problem.
    all_ids = [r.get("id") for r in header.steps]
    index: dict[str, int] = {}
    for i, step in zip(positions, steps):
        if step.id in index:
            errors.add(("steps", i, "id"), f"duplicate step id {step.id!r}", "give every step its own id")
        index[step.id] = i
    vector_steps = {s.id for s in steps if s.produces_vector}
    shapes: dict = {}  # each model's shape, read once
    for i, step in zip(positions, steps):
        names = [step.model] if isinstance(step.model, str) else (step.model or list(models))
        for name in names:
            if name not in models and name not in entries_of(header):
                errors.add(
                    ("steps", i, "model"),
                    f"{name!r} is not a model of this study",
                    f"add it under models:, or use one of: {', '.join(models) or '(none defined)'}",
                )
            elif name in models and step.white_box and parse_model_name(models[name].name).kind == "inspect":
                errors.add(
                    ("steps", i, "model"),
                    f"a {step.type} step needs activations, but {models[name].name} is a black-box model",
                    "use smollm2 or hf/<path> for this step",
                )
        for need in step.needs:
            if need not in all_ids:
                errors.add(("steps", i, "needs"), f"no step has id {need!r}", f"use one of: {', '.join(map(str, all_ids))}")
        for ref in sorted(step.references()):
            if ref in all_ids:
                if ref in index and ref not in vector_steps:
                    errors.add(("steps", i), f"step {ref!r} makes no vector", "name a vector-making step or a vector directory")
            elif check_files and not ((source.parent if source else Path.cwd()) / Path(ref).expanduser()).exists():
                errors.add(
                    ("steps", i),
                    f"{ref!r} is neither a step id nor a vector directory",
                    f"use a vector-making step's id ({', '.join(sorted(vector_steps)) or 'none here'}) or a path",
                )
        if check_files:
            base_dir = source.parent if source else Path.cwd()
            check = getattr(step, "check_files", None)
            for field, problem, fix in check(base_dir) if check else []:
                errors.add(("steps", i, field), problem, fix)
            from personascope.study._checkspecs import check_step_specs

            for loc, problem, fix in check_step_specs(step, models, all_ids, base_dir,
                                                      allow_other_model=header.allow_other_model, shapes=shapes):
                errors.add(loc if loc[0] == "models" else ("steps", i, *loc), problem, fix)
    errors.raise_if_any()
    study = Study(name=header.name, description=header.description, seed=header.seed, models=models, steps=steps, source=source)
    study.steps = _order(study, errors)
    errors.raise_if_any()
    return study


def _step_class(kind: str) -> type[Step] | None:
    """The step class a `type:` names (registered, or a `module:Class` reference), or
    None when it names nothing usable."""
    if kind not in registry.names("step") and not registry.is_ref(kind):
        return None
    cls = registry.get("step", kind)
    if not (isinstance(cls, type) and issubclass(cls, Step)):
        raise PersonascopeError(f"step type {kind!r} names {cls!r}, which is not a personascope.protocol.Step subclass")
    return cls


def entries_of(header: StudyHeader) -> dict:
    return {m: m for m in header.models} if isinstance(header.models, list) else dict(header.models)


def _models(header: StudyHeader, errors: _Errors) -> dict[str, ModelConfig]:
    entries = entries_of(header)
    if not entries:
        errors.add(("models",), "no models", "list at least one, e.g. models: [smollm2]")
    models = {}
    for alias, entry in entries.items():
        config = ModelConfig(name=entry) if isinstance(entry, str) else entry
        try:
            parse_model_name(config.name)
        except PersonascopeError as exc:
            errors.add(("models", alias), str(exc).split(": use")[0], "use smollm2, hf/<path> or provider/model")
            continue
        models[alias] = config
    return models


def _order(study: Study, errors: _Errors) -> list[Step]:
    """Steps sorted so each runs after its dependencies (stable: file order otherwise)."""
    position = {s.id: i for i, s in enumerate(study.steps)}
    deps = {s.id: study.dependencies(s) for s in study.steps}
    done: list[str] = []
    state: dict[str, str] = {}

    def visit(sid: str, trail: list[str]) -> None:
        if state.get(sid) == "done":
            return
        if state.get(sid) == "active":
            cycle = trail[trail.index(sid) :] + [sid]
            errors.add(
                ("steps", position[cycle[0]], "needs"),
                f"steps depend on each other in a cycle: {' -> '.join(cycle)}",
                "remove one of these dependencies",
            )
            return
        state[sid] = "active"
        for dep in deps[sid]:
            visit(dep, trail + [sid])
            if errors.items:
                return
        state[sid] = "done"
        done.append(sid)

    for step in study.steps:
        visit(step.id, [])
        if errors.items:
            break
    return [study.steps[position[sid]] for sid in done]
