"""Trait specs: define a persona trait once (YAML), use it for vectors, judges and evals."""

from personascope.traits._generate import generate_trait
from personascope.traits._import import FORMATS, import_trait
from personascope.traits._load import (
    dump_trait,
    list_traits,
    load_trait,
    parse_trait,
    parse_trait_text,
    save_trait,
    validate_trait_file,
)
from personascope.traits._spec import BUILTIN_MINIMUMS, SCHEMA_VERSION, InstructionPair, JudgeSpec, Questions, TraitSpec

__all__ = [
    "BUILTIN_MINIMUMS",
    "FORMATS",
    "SCHEMA_VERSION",
    "InstructionPair",
    "JudgeSpec",
    "Questions",
    "TraitSpec",
    "dump_trait",
    "generate_trait",
    "import_trait",
    "list_traits",
    "load_trait",
    "parse_trait",
    "parse_trait_text",
    "save_trait",
    "validate_trait_file",
]
