"""Text specs for interventions and projections, shared by the CLI and the Inspect provider.

    steer:   VECTOR@LAYERS:COEF[:POSITIONS]  e.g. runs/evil@12:4  or  v@10-14:2.5
    ablate:  VECTOR@LAYERS[:POSITIONS]       e.g. v@all
    cap:     VECTOR@LAYERS:MIN:MAX[:POSITIONS]
                                        e.g. v@8,12:-2:  (empty side = open)
                                        or   v@8:-2::response (only generated tokens)
    project: VECTOR@LAYER

LAYERS is `12`, `10,12`, `10-14` or `all`; negative layers count from the end.
Interventions are parsed, validated and resolved by the engine's
`InterventionSpec`; this module keeps the vector-valued projection spec.
"""

from pathlib import Path

from personascope.engine._spec import FORMS, POSITIONS, InterventionItem, _bad, parse_layers, split_spec
from personascope.errors import PersonascopeError
from personascope.vectors._vector import PersonaVector

_split = split_spec  # the name other modules have imported

__all__ = ["FORMS", "POSITIONS", "load_vector", "parse_intervention", "parse_layers", "parse_projection"]


def load_vector(path: str, hidden_size: int | None = None) -> PersonaVector:
    vec = PersonaVector.load(Path(path).expanduser())
    if hidden_size is not None and vec.hidden_size != hidden_size:
        raise PersonascopeError(
            f"vector {path} has width {vec.hidden_size} but the model's hidden size is {hidden_size}: "
            "use a vector extracted from this model"
        )
    return vec


def parse_intervention(kind: str, spec: str, n_layers: int, hidden_size: int):
    """Turn one spec into an engine intervention (loads and checks the vector)."""
    return InterventionItem.parse(kind, spec).resolve(n_layers, hidden_size)


def parse_projection(spec: str, n_layers: int, hidden_size: int) -> tuple[str, PersonaVector, int]:
    """(label, vector, layer) for a `VECTOR@LAYER` projection spec."""
    path, layer_text, _ = split_spec("project", spec, 0)
    layers = parse_layers(layer_text, n_layers, kind="project", spec=spec)
    if len(layers) != 1:
        raise _bad("project", spec, "a projection takes exactly one layer")
    return spec, load_vector(path, hidden_size), layers[0]
