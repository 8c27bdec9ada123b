"""A persona vector: one direction per layer, with its metadata, stored as a directory.

`vectors.safetensors` holds a `[n_layers, hidden]` float32 tensor under the key
`vectors` (row `i` is layer `i`, see the engine's layer convention); `meta.json`
holds the metadata with a `schema_version`. Extraction also stores the vector of
each other pooling under that pooling's name (`prompt_mean`, `last_prompt`), so
`PersonaVector.load(dir, pooling="last_prompt")` reads one; readers that know only
the `vectors` key still get the default pooling (`meta["pooling"]`).
"""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from personascope._files import atomic_path, atomic_write
from personascope.engine._vectorfile import read_meta
from personascope.errors import PersonascopeError
from personascope.engine._ptvector import META as PT_META
from personascope.engine._ptvector import is_pt, load_pt

if TYPE_CHECKING:
    import torch

SCHEMA_VERSION = 2
"""2: `layer_selected_by` (text_only / in_context) says which held-out reading chose the layer; 1 chose in context."""
TENSORS = "vectors.safetensors"
META = "meta.json"


class PersonaVector:
    """A small value object: supports `+`, `-`, scalar `*`, `-v` and `cosine`."""

    def __init__(self, data: "torch.Tensor", meta: dict[str, Any] | None = None) -> None:
        import torch  # on first use, so importing the vectors package stays light

        if data.ndim != 2:
            raise PersonascopeError(f"a persona vector is [n_layers, hidden], got shape {tuple(data.shape)}")
        self.data = data.detach().to(torch.float32).cpu()
        self.meta = dict(meta or {})

    @property
    def n_layers(self) -> int:
        return self.data.shape[0]

    @property
    def hidden_size(self) -> int:
        return self.data.shape[1]

    def __getitem__(self, layer: int) -> "torch.Tensor":
        return self.data[layer]

    def _combine(self, other: "PersonaVector", sign: float) -> "PersonaVector":
        if not isinstance(other, PersonaVector):
            return NotImplemented
        if other.data.shape != self.data.shape:
            raise PersonascopeError(f"vector shapes differ: {tuple(self.data.shape)} vs {tuple(other.data.shape)}")
        return PersonaVector(self.data + sign * other.data, {"derived_from": [self.meta.get("name"), other.meta.get("name")]})

    def __add__(self, other: "PersonaVector") -> "PersonaVector":
        return self._combine(other, 1.0)

    def __sub__(self, other: "PersonaVector") -> "PersonaVector":
        return self._combine(other, -1.0)

    def __mul__(self, scalar: float) -> "PersonaVector":
        return PersonaVector(self.data * float(scalar), self.meta)

    __rmul__ = __mul__

    def __neg__(self) -> "PersonaVector":
        return self * -1.0

    def norms(self) -> "torch.Tensor":
        return self.data.norm(dim=-1)

    def cosine(self, other: "PersonaVector") -> "torch.Tensor":
        """Per-layer cosine similarity with `other`."""
        import torch

        return torch.nn.functional.cosine_similarity(self.data, other.data, dim=-1)

    def project(self, activations: "torch.Tensor", layer: int) -> "torch.Tensor":
        """Scalar projection of `[..., hidden]` activations on unit(row `layer`)."""
        row = self.data[layer]
        return activations.float() @ (row / row.norm())

    def save(self, path: str | Path, *, extra: "dict[str, torch.Tensor] | None" = None) -> Path:
        """Write the directory atomically (files land under temp names, then rename).

        `extra` maps other poolings' names to their `[n_layers, hidden]` vectors,
        stored beside the default one; `meta["poolings"]` lists them all.
        """
        import torch
        from safetensors.torch import save_file

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        from personascope import __version__

        meta = {
            "schema_version": SCHEMA_VERSION,
            "personascope_version": __version__,
            **self.meta,
            "n_layers": self.n_layers,
            "hidden_size": self.hidden_size,
        }
        tensors = {"vectors": self.data.contiguous()}
        for name, data in (extra or {}).items():
            if name == "vectors" or tuple(data.shape) != tuple(self.data.shape):
                raise PersonascopeError(f"extra pooling {name!r} must be named otherwise and shaped {tuple(self.data.shape)}")
            tensors[name] = data.detach().to(torch.float32).cpu().contiguous()
        if extra:
            meta["poolings"] = [meta.get("pooling", "vectors"), *extra]
        with atomic_path(path / TENSORS) as tmp:
            save_file(tensors, str(tmp))
        atomic_write(path / META, json.dumps(meta, indent=2, sort_keys=True, default=str))
        return path

    @classmethod
    def load(cls, path: str | Path, pooling: str | None = None) -> "PersonaVector":
        """Read a vector directory (or a persona_vectors `.pt` file, see engine/_ptvector.py);
        `pooling` picks another stored pooling than the default."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        path = Path(path)
        tensors = path / TENSORS if path.is_dir() else path
        if is_pt(tensors) and pooling is None:  # a persona_vectors vector
            return cls(load_pt(tensors), {**PT_META, "file": tensors.name})
        if not tensors.is_file():
            raise PersonascopeError(
                f"no vector at {path}: expected a directory with {TENSORS} and {META} (as written by PersonaVector.save)"
            )
        try:
            stored = load_file(str(tensors))
            data = stored["vectors"]
        except (SafetensorError, KeyError, OSError) as exc:
            raise PersonascopeError(f"{tensors} is not a valid vector file ({exc}): re-create it") from exc
        meta = read_meta(tensors)
        if pooling is not None and pooling != meta.get("pooling"):
            if pooling not in stored or pooling == "vectors":
                have = [meta.get("pooling", "vectors"), *(k for k in stored if k != "vectors")]
                raise PersonascopeError(f"{path} has no {pooling!r} pooling: it stores {', '.join(have)}")
            data, meta = stored[pooling], {**meta, "pooling": pooling}
        return cls(data, meta)

    def __repr__(self) -> str:
        name = self.meta.get("name", "unnamed")
        return f"PersonaVector({name!r}, layers={self.n_layers}, hidden={self.hidden_size})"
