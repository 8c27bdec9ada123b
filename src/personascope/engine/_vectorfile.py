"""Reading a vector directory for interventions, without the vectors package.

A vector directory holds `vectors.safetensors` (a `[n_layers, hidden]` float32
tensor under the key `vectors`) and `meta.json`. The engine reads only what an
intervention needs: the tensor, its shape (from the safetensors header, no torch)
and its content hash (what cache keys use instead of the path).
"""

import hashlib
import json
import struct
from pathlib import Path

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


def _check_meta(tensors: Path) -> None:
    meta_file = tensors.parent / META
    if not meta_file.is_file():
        return
    try:
        version = json.loads(meta_file.read_text()).get("schema_version", SCHEMA_VERSION)
    except (ValueError, AttributeError):
        raise PersonascopeError(f"{meta_file} is not a valid vector meta file: re-create the vector") from None
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise PersonascopeError(f"{meta_file} has schema_version {version}; upgrade personascope to read it")


def vector_shape(path: str | Path) -> tuple[int, ...]:
    """The stored vector's shape, read from the safetensors header (no tensor is loaded)."""
    tensors = tensors_file(path)
    _check_meta(tensors)
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
    _check_meta(tensors)
    try:
        data = load_file(str(tensors))[KEY]
    except (SafetensorError, KeyError, OSError) as exc:
        raise PersonascopeError(f"{tensors} is not a valid vector file ({exc}): re-create it") from exc
    return data.detach().to(torch.float32).cpu()
