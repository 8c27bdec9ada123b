"""Text specs for interventions, shared by the CLI and the Inspect provider.

    steer:   VECTOR@LAYERS:COEF         e.g. runs/evil@12:4  or  v@10-14:2.5
    ablate:  VECTOR@LAYERS              e.g. v@all
    cap:     VECTOR@LAYERS:MIN:MAX[:POSITIONS]
                                        e.g. v@8,12:-2:  (empty side = open)
                                        or   v@8:-2::response (only generated tokens)
    project: VECTOR@LAYER

LAYERS is `12`, `10,12`, `10-14` or `all`; negative layers count from the end.
"""

from pathlib import Path

from personascope.errors import PersonascopeError
from personascope.vectors._vector import PersonaVector

FORMS = {
    "steer": "VECTOR@LAYERS:COEF (e.g. vec@12:4.0)",
    "ablate": "VECTOR@LAYERS (e.g. vec@12)",
    "cap": "VECTOR@LAYERS:MIN:MAX[:POSITIONS] (e.g. vec@12:-3:3, leave a side empty to keep it open; "
    "POSITIONS is all, prompt or response)",
    "project": "VECTOR@LAYER (e.g. vec@12)",
}


def _bad(kind: str, spec: str, why: str) -> PersonascopeError:
    return PersonascopeError(f"malformed {kind} argument {spec!r}: {why}; write {FORMS[kind]}")


def parse_layers(text: str, n_layers: int | None = None, *, kind: str = "steer", spec: str = "") -> list[int]:
    text = text.strip()
    if text == "all":
        if n_layers is None:
            raise _bad(kind, spec, "'all' needs the model's layer count")
        return list(range(n_layers))
    layers: list[int] = []
    try:
        for part in text.split(","):
            a, dash, b = part.strip().partition("-") if not part.strip().startswith("-") else (part.strip(), "", "")
            layers.extend(range(int(a), int(b) + 1) if dash else [int(a)])
    except ValueError:
        raise _bad(kind, spec, f"layers {text!r} are not integers") from None
    if not layers:
        raise _bad(kind, spec, "no layers given")
    if n_layers is not None:
        for layer in layers:
            if not -n_layers <= layer < n_layers:
                raise PersonascopeError(f"layer {layer} is out of range: this model has layers 0..{n_layers - 1}")
        layers = [layer % n_layers for layer in layers]
    return layers


POSITIONS = ("all", "prompt", "response")


def _split(kind: str, spec: str, n_fields: int, optional: int = 0) -> tuple[str, str, list[str]]:
    path, at, rest = spec.rpartition("@")
    if not at or not path:
        raise _bad(kind, spec, "missing '@'")
    layer_text, *fields = rest.split(":")
    if not n_fields <= len(fields) <= n_fields + optional:
        raise _bad(kind, spec, f"expected {n_fields} ':'-separated value(s) after the layers")
    return path, layer_text, fields


def _float(kind: str, spec: str, text: str, allow_empty: bool = False) -> float | None:
    if allow_empty and text.strip() == "":
        return None
    try:
        return float(text)
    except ValueError:
        raise _bad(kind, spec, f"{text!r} is not a number") from None


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
    from personascope.engine import Ablate, AddVector, Cap

    if kind not in FORMS or kind == "project":
        raise ValueError(f"unknown intervention kind {kind!r}")
    n_fields = {"steer": 1, "ablate": 0, "cap": 2}[kind]
    path, layer_text, fields = _split(kind, spec, n_fields, optional=1 if kind == "cap" else 0)
    layers = parse_layers(layer_text, n_layers, kind=kind, spec=spec)
    vec = load_vector(path, hidden_size)
    if vec.n_layers != n_layers:
        raise PersonascopeError(f"vector {path} has {vec.n_layers} layer rows but the model has {n_layers} layers")
    if kind == "steer":
        return AddVector(vec.data, layers, coef=_float(kind, spec, fields[0]))
    if kind == "ablate":
        return Ablate(vec.data, layers)
    low, high = (_float(kind, spec, f, allow_empty=True) for f in fields[:2])
    if low is None and high is None:
        raise _bad(kind, spec, "give a min, a max or both")
    # A two-sided cap at every position also clamps the first token, whose
    # residual norm is huge (an attention sink), which wrecks generation; `response`
    # leaves the prompt as the model wrote it.
    positions = fields[2].strip() if len(fields) == 3 else "all"
    if positions not in POSITIONS:
        raise _bad(kind, spec, f"positions {positions!r} is not one of {', '.join(POSITIONS)}")
    return Cap(vec.data, layers, min=low, max=high, positions=positions)


def parse_projection(spec: str, n_layers: int, hidden_size: int) -> tuple[str, PersonaVector, int]:
    """(label, vector, layer) for a `VECTOR@LAYER` projection spec."""
    path, layer_text, _ = _split("project", spec, 0)
    layers = parse_layers(layer_text, n_layers, kind="project", spec=spec)
    if len(layers) != 1:
        raise _bad("project", spec, "a projection takes exactly one layer")
    return spec, load_vector(path, hidden_size), layers[0]
