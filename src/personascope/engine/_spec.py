"""Interventions as one serializable spec: parsed from text, validated against a
model's shape, resolved into engine interventions.

Text forms (the CLI's `--steer/--ablate/--cap` and the Inspect provider's `-M`):

    steer:   VECTOR@LAYERS:COEF[:POSITIONS]     e.g. runs/evil@12:4  or  v@10-14:2.5
    ablate:  VECTOR@LAYERS[:POSITIONS]          e.g. v@all
    cap:     VECTOR@LAYERS:MIN:MAX[:POSITIONS]  e.g. v@8,12:-2:  (empty side = open)
                                                or   v@8:-2::response (only generated tokens)

LAYERS is `12`, `10,12`, `10-14` or `all`; negative layers count from the end.
POSITIONS is all (default), prompt or response. Vectors enter cache keys by
content hash, so a moved vector keeps its cached results and an edited one does not.
"""

import math
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from personascope.engine._vectorfile import (
    check_finite, check_vector_model, load_vector_tensor, vector_digest, vector_shape,
)
from personascope.errors import PersonascopeError

Kind = Literal["steer", "ablate", "cap"]
POSITIONS = ("all", "prompt", "response")
FORMS = {
    "steer": "VECTOR@LAYERS:COEF[:POSITIONS] (e.g. vec@12:4.0)",
    "ablate": "VECTOR@LAYERS[:POSITIONS] (e.g. vec@12)",
    "cap": "VECTOR@LAYERS:MIN:MAX[:POSITIONS] (e.g. vec@12:-3:3, leave a side empty to keep it open; "
    "POSITIONS is all, prompt or response)",
    "project": "VECTOR@LAYER (e.g. vec@12)",
}
_FIELDS = {"steer": 1, "ablate": 0, "cap": 2}  # ':'-separated values after the layers, before POSITIONS


def _bad(kind: str, spec: str, why: str) -> PersonascopeError:
    return PersonascopeError(f"malformed {kind} argument {spec!r}: {why}; write {FORMS[kind]}")


def split_spec(kind: str, spec: str, n_fields: int, optional: int = 0) -> tuple[str, str, list[str]]:
    """(vector path, layers text, the ':'-separated values) of `VECTOR@LAYERS[:...]`."""
    path, at, rest = spec.rpartition("@")
    if not at or not path:
        raise _bad(kind, spec, "missing '@'")
    layer_text, *fields = rest.split(":")
    if not n_fields <= len(fields) <= n_fields + optional:
        raise _bad(kind, spec, f"expected {n_fields} ':'-separated value(s) after the layers")
    return path, layer_text, fields


def _layer_list(text: str, kind: str, spec: str) -> list[int] | Literal["all"]:
    text = text.strip()
    if text == "all":
        return "all"
    layers: list[int] = []
    for part in text.split(","):
        part = part.strip()
        # A leading '-' is a negative layer; a later one separates a range.
        a, dash, b = part[0:1] + part[1:].partition("-")[0], *part[1:].partition("-")[1:]
        try:
            first, last = int(a), int(b) if dash else int(a)
        except ValueError:
            raise _bad(kind, spec, f"layers {text!r} are not integers (write e.g. 12, 10,12 or 10-14)") from None
        if last < first:
            raise _bad(kind, spec, f"layer range {part!r} runs backwards: write {last}-{first}")
        if first < 0 <= last:
            raise _bad(kind, spec, f"layer range {part!r} mixes counting from the end and from the start: use one")
        layers.extend(range(first, last + 1))
    if not layers:
        raise _bad(kind, spec, "no layers given")
    _no_duplicates(layers, kind, spec)
    return layers


def _no_duplicates(layers: Sequence[int], kind: str, spec: str) -> None:
    seen: set[int] = set()
    for layer in layers:
        if layer in seen:
            raise _bad(kind, spec, f"layer {layer} is given twice (it would apply twice): list each layer once")
        seen.add(layer)


def check_layer_range(layers: Sequence[int] | Literal["all"], n_layers: int) -> list[int]:
    """Layers as indices 0..n_layers-1 (`all`, negatives from the end), or an error."""
    if layers == "all":
        return list(range(n_layers))
    for layer in layers:
        if not -n_layers <= layer < n_layers:
            raise PersonascopeError(
                f"layer {layer} is out of range: this model has layers 0..{n_layers - 1} "
                f"(or -{n_layers}..-1 from the end): use one of those"
            )
    indices = [layer % n_layers for layer in layers]
    if len(set(indices)) != len(indices):
        raise PersonascopeError(
            f"layers {', '.join(map(str, layers))} name one layer twice on this {n_layers}-layer model: list each layer once"
        )
    return indices


def parse_layers(text: str, n_layers: int | None = None, *, kind: str = "steer", spec: str = "") -> list[int]:
    """`12`, `10,12`, `10-14` or `all` as layer indices (checked when `n_layers` is given)."""
    layers = _layer_list(text, kind, spec)
    if n_layers is None:
        if layers == "all":
            raise _bad(kind, spec, "'all' needs the model's layer count")
        return layers
    return check_layer_range(layers, n_layers)


def _number(kind: str, spec: str, text: str, allow_empty: bool = False) -> float | None:
    if allow_empty and text.strip() == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise _bad(kind, spec, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise _bad(kind, spec, f"{text!r} is not a finite number")
    return value


def _text_number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


class InterventionItem(BaseModel):
    """One intervention: a vector, the layers it acts on, and how."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Kind
    """steer (add coef * vector), ablate (remove the direction) or cap (clamp the projection)."""
    vector: str
    """Path of the vector directory (or its `vectors.safetensors`)."""
    digest: str | None = None
    """SHA-256 of the vector's tensors file; filled by `hashed()`, checked when resolving."""
    layers: list[int] | Literal["all"]
    """Layer indices (negative ones count from the end) or `all`."""
    coef: float | None = None
    """steer only: the multiplier of the vector."""
    min: float | None = None
    """cap only: the lowest projection allowed (None: open)."""
    max: float | None = None
    """cap only: the highest projection allowed (None: open)."""
    positions: Literal["all", "prompt", "response"] = "all"
    """Where it acts: every token, prompt tokens only, or generated tokens only."""
    text: str | None = None
    """The text form this item was parsed from; cache keys use its layer part as written."""

    @model_validator(mode="after")
    def _consistent(self) -> "InterventionItem":
        label = self.text or f"{self.vector}@..."
        for name in ("coef", "min", "max"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise PersonascopeError(f"{self.kind} {label}: {name} {value} is not a finite number")
        if self.kind == "steer" and self.coef is None:
            raise PersonascopeError(f"steer {label} needs a coef; write {FORMS['steer']}")
        if self.kind != "steer" and self.coef is not None:
            raise PersonascopeError(f"{self.kind} {label} takes no coef: only steer does")
        if self.kind == "cap" and self.min is None and self.max is None:
            raise _bad("cap", label, "give a min, a max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise _bad("cap", label, f"min {self.min} is above max {self.max}")
        if self.kind != "cap" and (self.min is not None or self.max is not None):
            raise PersonascopeError(f"{self.kind} {label} takes no min or max: only cap does")
        if self.layers != "all" and not self.layers:
            raise _bad(self.kind, label, "no layers given")
        if self.layers != "all":
            _no_duplicates(self.layers, self.kind, label)
        return self

    @classmethod
    def parse(cls, kind: str, spec: str) -> "InterventionItem":
        """Parse one text form (syntax and numbers only: no file is read)."""
        if kind not in _FIELDS:
            raise PersonascopeError(f"unknown intervention kind {kind!r}: use steer, ablate or cap")
        path, layer_text, fields = split_spec(kind, spec, _FIELDS[kind], optional=1)
        layers = _layer_list(layer_text, kind, spec)
        values, extra = fields[: _FIELDS[kind]], fields[_FIELDS[kind] :]
        positions = extra[0].strip() if extra else "all"
        if positions not in POSITIONS:
            raise _bad(kind, spec, f"positions {positions!r} is not one of {', '.join(POSITIONS)}")
        numbers: dict = {}
        if kind == "steer":
            numbers["coef"] = _number(kind, spec, values[0])
        elif kind == "cap":
            numbers["min"], numbers["max"] = (_number(kind, spec, v, allow_empty=True) for v in values)
            if numbers["min"] is None and numbers["max"] is None:
                raise _bad(kind, spec, "give a min, a max or both")
        return cls(kind=kind, vector=path, layers=layers, positions=positions, text=spec, **numbers)

    def to_text(self) -> str:
        """The text form (the one parsed, if any)."""
        if self.text is not None:
            return self.text
        return f"{self.vector}@{self._rest()}"

    def _rest(self) -> str:
        if self.text is not None:
            return self.text.rpartition("@")[2]
        layers = "all" if self.layers == "all" else ",".join(str(layer) for layer in self.layers)
        values = {"steer": [_text_number(self.coef)], "ablate": [], "cap": [_text_number(self.min), _text_number(self.max)]}
        suffix = [self.positions] if self.positions != "all" else []
        return ":".join([layers, *values[self.kind], *suffix])

    def hashed(self) -> "InterventionItem":
        """This item with the vector's content hash filled in (reads the tensors file)."""
        return self if self.digest is not None else self.model_copy(update={"digest": vector_digest(self.vector)})

    def key(self) -> list[str]:
        """How the item enters a cache key: kind, the vector by content, the rest as written."""
        return [self.kind, self.hashed().digest, self._rest()]

    def check(
        self, n_layers: int, hidden_size: int, *, model: str | None = None, weights: str | None = None,
        allow_other_model: bool = False,
    ) -> list[int]:
        """Validate against a model's shape (the vector's shape comes from its file
        header, so no model loads) and, given `model` (its name, and `weights` its
        weights hash), that the vector came from that model; returns the layer indices."""
        layers = check_layer_range(self.layers, n_layers)
        rows, width = vector_shape(self.vector)
        if width != hidden_size:
            raise PersonascopeError(
                f"vector {self.vector} has width {width} but the model's hidden size is {hidden_size}: "
                "use a vector extracted from this model"
            )
        if rows != n_layers:
            raise PersonascopeError(
                f"vector {self.vector} has {rows} layer rows but the model has {n_layers} layers: "
                "use a vector extracted from this model"
            )
        check_finite(self.vector)
        if model is not None:
            check_vector_model(self.vector, model, weights, allow_other_model=allow_other_model)
        return layers

    def resolve(self, n_layers: int, hidden_size: int):
        """The engine intervention (`AddVector`, `Ablate` or `Cap`) for a model of this shape."""
        from personascope.engine._interventions import Ablate, AddVector, Cap

        layers = self.check(n_layers, hidden_size)
        if self.digest is not None and vector_digest(self.vector) != self.digest:
            raise PersonascopeError(
                f"vector {self.vector} changed since this spec was written (content hash differs): "
                "re-create the spec, or restore the vector"
            )
        data = load_vector_tensor(self.vector)
        if self.kind == "steer":
            return AddVector(data, layers, coef=self.coef, positions=self.positions)
        if self.kind == "ablate":
            return Ablate(data, layers, positions=self.positions)
        # A two-sided cap at every position also clamps the first token, whose
        # residual norm is huge (an attention sink), which wrecks generation; `response`
        # leaves the prompt as the model wrote it.
        return Cap(data, layers, min=self.min, max=self.max, positions=self.positions)


class InterventionSpec(BaseModel):
    """Every intervention of one model call, in the order they apply."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    """Version of this format."""
    items: tuple[InterventionItem, ...] = ()
    """The interventions; at a layer they apply in this order."""

    @classmethod
    def parse(cls, steer: Iterable[str] = (), ablate: Iterable[str] = (), cap: Iterable[str] = ()) -> "InterventionSpec":
        """From the CLI's text forms (steer first, then ablate, then cap)."""
        return cls.from_pairs([("steer", s) for s in steer] + [("ablate", s) for s in ablate] + [("cap", s) for s in cap])

    @classmethod
    def from_pairs(cls, pairs: "Iterable[tuple[str, str]] | InterventionSpec") -> "InterventionSpec":
        """From `(kind, text)` pairs (or a spec, returned as it is)."""
        if isinstance(pairs, InterventionSpec):
            return pairs
        return cls(items=tuple(InterventionItem.parse(kind, text) for kind, text in pairs))

    def __bool__(self) -> bool:
        return bool(self.items)

    def pairs(self) -> list[tuple[str, str]]:
        return [(item.kind, item.to_text()) for item in self.items]

    def hashed(self) -> "InterventionSpec":
        """The spec with every vector's content hash filled in."""
        return self.model_copy(update={"items": tuple(item.hashed() for item in self.items)})

    def keys(self) -> list[list[str]]:
        return [item.key() for item in self.items]

    def check(self, n_layers: int, hidden_size: int, **model) -> None:
        """Every item's `check` (keywords: `model`, `weights`, `allow_other_model`)."""
        for item in self.items:
            item.check(n_layers, hidden_size, **model)

    def resolve(self, n_layers: int, hidden_size: int) -> list:
        return [item.resolve(n_layers, hidden_size) for item in self.items]
