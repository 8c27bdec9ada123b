"""Finding, reading, validating and writing trait specs."""

import json
import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from personascope._files import atomic_write
from personascope._yamlerrors import YamlErrors, load_yaml
from personascope.errors import PersonascopeError
from personascope.traits._spec import TraitSpec

_SUFFIXES = (".yaml", ".yml", ".json")
_FIXES = {"string_pattern_mismatch": "use lower-case letters, digits, '-' and '_', starting with a letter or digit"}


def _data_dir():
    return resources.files("personascope.traits") / "data"


@cache
def _builtin_names() -> tuple[str, ...]:
    return tuple(sorted(p.name[: -len(".yaml")] for p in _data_dir().iterdir() if p.name.endswith(".yaml")))


def list_traits() -> list[str]:
    """Names of the built-in traits."""
    return list(_builtin_names())


def load_trait(name_or_path: str | Path) -> TraitSpec:
    """A built-in trait by name, or a spec from a YAML or JSON file."""
    if isinstance(name_or_path, TraitSpec):
        return name_or_path
    text = str(name_or_path)
    # Built-in names win over same-named files in the working directory, so that
    # `evil` means the same spec wherever a study runs.
    if text in _builtin_names():
        return _builtin(text).model_copy(deep=True)
    path = Path(text).expanduser()
    if path.is_file():
        return validate_trait_file(path)
    if path.suffix.lower() in _SUFFIXES or os.sep in text or "/" in text:
        raise PersonascopeError(f"no such trait file: {text} (fix: check the path, or use a built-in: {', '.join(list_traits())})")
    raise PersonascopeError(
        f"unknown trait {text!r}: use a built-in ({', '.join(list_traits())}) or a path to a .yaml/.json spec"
    )


@cache
def _builtin(name: str) -> TraitSpec:
    resource = _data_dir() / f"{name}.yaml"
    return parse_trait_text(resource.read_text(encoding="utf-8"), file=f"<built-in {name}>")


def validate_trait_file(path: str | Path) -> TraitSpec:
    """Read and validate a spec file; every problem is reported at once, with file and line."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise PersonascopeError(f"no such trait file: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PersonascopeError(f"{path}: not a text file (fix: save the spec as UTF-8 YAML or JSON)") from None
    if "\x00" in text:
        raise PersonascopeError(f"{path}: a binary file (fix: save the spec as UTF-8 YAML or JSON)")
    return parse_trait_text(text, file=str(path), json_file=path.suffix.lower() == ".json")


def parse_trait_text(text: str, *, file: str = "<trait>", json_file: bool = False) -> TraitSpec:
    """Parse YAML (or JSON) text into a validated spec."""
    if not json_file:
        return parse_trait(load_yaml(text, file), file=file, text=text)
    try:
        raw = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise PersonascopeError(f"{file}:{exc.lineno}: not valid JSON ({exc.msg}) (fix: check commas, quotes and brackets)") from None
    return parse_trait(raw, file=file, text=text)


def _no_duplicate_keys(pairs: list) -> dict:
    keys = [k for k, _ in pairs]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise PersonascopeError(f"duplicate key {dupes[0]!r} in a JSON object (fix: keep one of them)")
    return dict(pairs)


def parse_trait(raw: Any, *, file: str = "<trait>", text: str = "") -> TraitSpec:
    """Validate already-parsed data; `text` (the source) gives errors their line numbers."""
    errors = YamlErrors(file, text, what="trait spec", docs="docs/traits.md", fixes=_FIXES)
    if not isinstance(raw, dict):
        errors.add((), "a trait spec is a mapping with name, description, instructions, questions and judge",
                   "start from `personascope traits show evil --yaml`")
        errors.raise_if_any()
    try:
        spec = TraitSpec.model_validate(raw)
    except ValidationError as exc:
        errors.add_pydantic(exc, fields=list(TraitSpec.model_fields))
        errors.raise_if_any()
        raise AssertionError("unreachable") from None
    # A file's scorers must exist when it is read (a typo would otherwise surface
    # after the model has answered); Python callers may register theirs later.
    from personascope.registry import is_ref, names

    known = names("scorer")
    for i, name in enumerate(spec.scorers):
        if not is_ref(name) and name not in known:
            errors.add(("scorers", i), f"unknown scorer {name!r}", f"use one of: {', '.join(known)}, or module:function")
    errors.raise_if_any()
    return spec


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line text (rubrics) as `|` blocks, the way people write them."""


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_trait(spec: TraitSpec) -> str:
    """The spec as YAML, fields in their documented order."""
    data = spec.model_dump(mode="json")
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def save_trait(spec: TraitSpec, path: str | Path) -> Path:
    """Write the spec as YAML (or JSON for a .json path), atomically: a reader never sees half a file."""
    path = Path(path).expanduser()
    text = json.dumps(spec.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n" if path.suffix.lower() == ".json" else dump_trait(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text)
    return path
