"""Reading a vector directory for interventions, without the vectors package.

A vector directory holds `vectors.safetensors` (a `[n_layers, hidden]` float32
tensor under the key `vectors`) and `meta.json`. The engine reads only what an
intervention needs: the tensor, its shape (from the safetensors header, no torch)
and its content hash (what cache keys use instead of the path). A persona_vectors
`.pt` file is read as a vector too (engine/_ptvector.py).
"""

import hashlib
import json
import struct
from pathlib import Path

from personascope.engine._ptvector import is_pt, load_pt, pt_shape
from personascope.errors import PersonascopeError

TENSORS = "vectors.safetensors"
META = "meta.json"
KEY = "vectors"
SCHEMA_VERSION = 2
"""The newest vector meta.json this reads (the vectors package writes it; 2 adds which reading chose the layer)."""


def tensors_file(path: str | Path) -> Path:
    """The tensors file of a vector directory (or the file itself), or a clear error."""
    path = Path(path).expanduser()
    tensors = path / TENSORS if path.is_dir() else path
    if tensors.suffix == ".pt" and tensors.is_file():  # a persona_vectors vector (engine/_ptvector.py)
        return tensors
    if not tensors.is_file():
        raise PersonascopeError(
            f"no vector at {path}: expected a directory with {TENSORS} and {META} (as written by PersonaVector.save)"
        )
    return tensors


def vector_digest(path: str | Path) -> str:
    """Content hash of a vector directory's tensors (what steering actually uses)."""
    h = hashlib.sha256()
    with open(tensors_file(path), "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_meta(tensors: Path) -> dict:
    """The `meta.json` beside a tensors file, checked: it must exist (it names the model
    the vector came from) and be a JSON object this version can read."""
    meta_file = tensors.parent / META
    if not meta_file.is_file():
        raise PersonascopeError(
            f"{tensors.parent} has no {META}, so nothing says which model the vector came from: "
            f"save it with PersonaVector.save (which writes {META}), or write a {META} with at least "
            '{"model": "<model name>"}'
        )
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PersonascopeError(f"{meta_file} is not valid JSON ({exc}): re-create the vector") from None
    if not isinstance(meta, dict):
        raise PersonascopeError(f"{meta_file} is not a JSON object: re-create the vector")
    version = meta.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int) or isinstance(version, bool):
        raise PersonascopeError(f"{meta_file}: schema_version {version!r} is not an integer: re-create the vector")
    if version > SCHEMA_VERSION:
        raise PersonascopeError(f"{meta_file} has schema_version {version}; upgrade personascope to read it")
    return meta


def check_vector_model(path: str | Path, model: str, weights: str | None = None, *, allow_other_model: bool = False) -> None:
    """That the vector at `path` was extracted from `model` (same name, or same weights
    hash), unless `allow_other_model`; a vector of another model steers nonsense."""
    if is_pt(tensors_file(path)):  # a persona_vectors .pt names no model: its width is checked instead
        return
    meta = read_meta(tensors_file(path))
    if allow_other_model:
        return
    source = meta.get("model")
    if source is None:  # a hand-made vector (PersonaVector.save without a model): nothing to compare
        return
    if not isinstance(source, str) or not source:
        raise PersonascopeError(
            f"{tensors_file(path).parent / META}: model {source!r} is not a model name: "
            f'write "model": "{model}" if it came from {model}, or re-create the vector'
        )
    same_weights = weights is not None and meta.get("weights_hash") == weights
    if source.removeprefix("personascope/") != model.removeprefix("personascope/") and not same_weights:
        raise PersonascopeError(
            f"vector {path} was extracted from {source}, not {model}: use a vector extracted from {model}, "
            "or pass --allow-other-model (allow_other_model: true in a study) to apply it anyway"
        )


def check_finite(path: str | Path) -> None:
    """That every number of the vector is finite (a NaN or inf turns every reply to noise)."""
    import numpy as np
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    tensors = tensors_file(path)
    try:
        data = load_pt(tensors).numpy() if is_pt(tensors) else load_file(str(tensors))[KEY]
    except (SafetensorError, KeyError, OSError, TypeError, ValueError) as exc:
        raise PersonascopeError(f"{tensors} is not a valid vector file ({exc}): re-create it") from None
    if not np.isfinite(data).all():
        bad = int((~np.isfinite(data)).sum())
        raise PersonascopeError(f"{tensors} holds {bad} NaN or infinite value(s): re-create the vector")


def vector_shape(path: str | Path) -> tuple[int, ...]:
    """The stored vector's shape, read from the safetensors header (no tensor is loaded)."""
    tensors = tensors_file(path)
    if is_pt(tensors):
        return pt_shape(tensors)
    read_meta(tensors)
    try:
        with open(tensors, "rb") as fh:
            (length,) = struct.unpack("<Q", fh.read(8))
            if length > 100_000_000:
                raise ValueError("header too large")
            header = json.loads(fh.read(length))
        shape = tuple(int(n) for n in header[KEY]["shape"])
    except (OSError, ValueError, KeyError, TypeError, struct.error) as exc:
        raise PersonascopeError(f"{tensors} is not a valid vector file ({exc}): re-create it") from None
    if len(shape) != 2:
        raise PersonascopeError(f"{tensors} holds shape {shape}, not [n_layers, hidden]: re-create it")
    return shape


def load_vector_tensor(path: str | Path):
    """The `[n_layers, hidden]` float32 tensor of a vector directory."""
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    tensors = tensors_file(path)
    if is_pt(tensors):
        return load_pt(tensors)
    read_meta(tensors)
    try:
        data = load_file(str(tensors))[KEY]
    except (SafetensorError, KeyError, OSError) as exc:
        raise PersonascopeError(f"{tensors} is not a valid vector file ({exc}): re-create it") from exc
    if not torch.isfinite(data).all():
        raise PersonascopeError(f"{tensors} holds NaN or infinite values: re-create the vector")
    return data.detach().to(torch.float32).cpu()
