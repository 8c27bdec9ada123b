"""Persona vectors: the value object, its files, and intervention specs."""

from personascope.vectors._config import ExtractConfig
from personascope.vectors._contrast import contrast_vector, project_responses
from personascope.vectors._extract import extract_vector
from personascope.vectors._quality import choose_layer, layer_quality
from personascope.vectors._responses import extract_from_responses, read_responses
from personascope.vectors._samples import ExtractResult, Sample, read_samples
from personascope.vectors._steercheck import SteerRow, steer_check
from personascope.vectors._spec import FORMS, load_vector, parse_intervention, parse_layers, parse_projection
from personascope.vectors._vector import SCHEMA_VERSION, PersonaVector

# Analysis: sweeps, monitoring, persona space, comparison.
from personascope.vectors._compare import compare_vectors, compared_layers
from personascope.vectors._monitor import (
    judge_records,
    project_records,
    read_records,
    shift_predictor,
    token_projections,
)
from personascope.vectors._space import (
    PersonaSpace,
    assistant_axis,
    cap_spec,
    cap_thresholds,
    load_roles,
    map_persona_space,
    persona_space,
    role_activations,
    role_vectors,
)
from personascope.vectors._sweep import SweepConfig, SweepResult, choose_best, sweep_vector

__all__ = [
    "ExtractConfig",
    "ExtractResult",
    "Sample",
    "choose_layer",
    "extract_from_responses",
    "extract_vector",
    "layer_quality",
    "read_responses",
    "read_samples",
    "SteerRow",
    "steer_check",
    "FORMS",
    "SCHEMA_VERSION",
    "PersonaVector",
    "contrast_vector",
    "load_vector",
    "parse_intervention",
    "parse_layers",
    "parse_projection",
    "project_responses",
    "PersonaSpace",
    "SweepConfig",
    "SweepResult",
    "assistant_axis",
    "cap_spec",
    "cap_thresholds",
    "choose_best",
    "compare_vectors",
    "compared_layers",
    "judge_records",
    "load_roles",
    "map_persona_space",
    "persona_space",
    "project_records",
    "read_records",
    "role_activations",
    "role_vectors",
    "shift_predictor",
    "sweep_vector",
    "token_projections",
]
