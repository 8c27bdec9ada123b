"""Cosine similarity between persona vectors: which traits share a direction (P4.1).

Also the small helpers the analysis modules share: naming a vector, picking its
layer, and writing result files atomically.
"""

import math
from collections.abc import Sequence
from pathlib import Path

from personascope._files import atomic_write  # noqa: F401  (vectors and the CLI import it from here)
from personascope.errors import PersonascopeError
from personascope.vectors._vector import PersonaVector


def vector_name(vector: PersonaVector, path: str | Path | None = None) -> str:
    """What to call a vector in tables: its trait, its name, else its directory name."""
    name = vector.meta.get("trait") or vector.meta.get("name")
    if isinstance(name, dict):  # a trait recorded as a spec summary
        name = name.get("name")
    return str(name or (Path(path).name if path is not None else "vector"))


def vector_layer(vector: PersonaVector, layer: int | None, path: str | Path | None = None) -> int:
    """`layer` if given (negative counts from the end), else the vector's `chosen_layer`."""
    if layer is None:
        layer = vector.meta.get("chosen_layer")
        if layer is None:
            where = f"{path}/meta.json" if path is not None else "the vector's metadata"
            raise PersonascopeError(f"{where} has no chosen_layer: give a layer (--layer L)")
    layer = int(layer)
    if not -vector.n_layers <= layer < vector.n_layers:
        raise PersonascopeError(f"layer {layer} is out of range: vector {path or ''} has layers 0..{vector.n_layers - 1}")
    return layer % vector.n_layers


def plain_json(value):
    """NaN and infinities become null: JSON has no NaN, and strict readers reject it."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(v) for v in value]
    return value


def _unique(names: list[str]) -> list[str]:
    # Two vectors of one trait (say from two models) must stay apart in the matrix.
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return out


def compare_vectors(dirs: Sequence[str | Path], layer: int | None = None):
    """`(names, matrix)`: pairwise cosine similarity of the vectors' rows.

    With `layer`, every vector is read at that layer; without it, each at its own
    `chosen_layer` from meta.json (rows from different layers then share the
    residual stream's basis, which is what makes them comparable at all).
    `matrix` is a symmetric numpy array with ones on the diagonal; `compared_layers`
    says which row of each vector was used.
    """
    import numpy as np

    if not dirs:
        raise PersonascopeError("compare needs at least one vector directory")
    vectors = [PersonaVector.load(Path(d).expanduser()) for d in dirs]
    widths = {v.hidden_size for v in vectors}
    if len(widths) > 1:
        raise PersonascopeError(f"vectors have different widths {sorted(widths)}: compare vectors of one model")
    layers = [vector_layer(v, layer, d) for v, d in zip(vectors, dirs)]
    rows = np.stack([v[i].double().numpy() for v, i in zip(vectors, layers)])
    norms = np.linalg.norm(rows, axis=1)
    if (norms == 0).any():
        bad = dirs[int(np.argmin(norms))]
        raise PersonascopeError(f"vector {bad} is zero at layer {layers[int(np.argmin(norms))]}: cosine is undefined")
    unit = rows / norms[:, None]
    matrix = np.clip(unit @ unit.T, -1.0, 1.0)
    np.fill_diagonal(matrix, 1.0)
    names = _unique([vector_name(v, d) for v, d in zip(vectors, dirs)])
    return names, matrix


def compared_layers(dirs: Sequence[str | Path], layer: int | None = None) -> list[int]:
    """The row `compare_vectors(dirs, layer)` reads from each vector."""
    return [vector_layer(PersonaVector.load(Path(d).expanduser()), layer, d) for d in dirs]
