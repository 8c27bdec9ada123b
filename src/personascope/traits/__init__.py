"""Trait specs: define a persona trait once (YAML), use it for vectors, judges and evals."""

from personascope.traits._spec import SCHEMA_VERSION, InstructionPair, JudgeSpec, Questions, TraitSpec

__all__ = ["SCHEMA_VERSION", "InstructionPair", "JudgeSpec", "Questions", "TraitSpec"]
