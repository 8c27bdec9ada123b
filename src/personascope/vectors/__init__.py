"""Persona vectors: the value object, its files, and intervention specs."""

from personascope.vectors._contrast import contrast_vector, project_responses
from personascope.vectors._spec import FORMS, load_vector, parse_intervention, parse_layers, parse_projection
from personascope.vectors._vector import SCHEMA_VERSION, PersonaVector

__all__ = [
    "FORMS",
    "SCHEMA_VERSION",
    "PersonaVector",
    "contrast_vector",
    "load_vector",
    "parse_intervention",
    "parse_layers",
    "parse_projection",
    "project_responses",
]
