"""Interventions on the residual stream: add a vector, ablate a direction, cap a projection.

Each is a small frozen value object; `Engine.intervene(...)` installs them as
forward hooks on decoder blocks and returns a handle that removes them exactly
(hooks never touch weights, so removal restores the model bit for bit).
Math runs in float32 whatever the model dtype, so bf16 models lose no precision
in the projection.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from personascope.errors import PersonascopeError

if TYPE_CHECKING:
    import torch

Positions = Literal["all", "prompt", "response"]


def _row(vector: "torch.Tensor", layer: int) -> "torch.Tensor":
    return vector[layer] if vector.ndim == 2 else vector


def _unit(vector: "torch.Tensor") -> "torch.Tensor":
    norm = vector.norm()
    if norm == 0:
        raise PersonascopeError("cannot ablate or cap along a zero vector: the direction has norm 0")
    return vector / norm


def _per_layer(value: float | Mapping[int, float] | None, layer: int) -> float | None:
    if isinstance(value, Mapping):
        return value.get(layer)
    return value


@dataclass(frozen=True, eq=False)
class AddVector:
    """Add `coef * vector` to the output of each layer in `layers`.

    `vector` is one direction `[hidden]` used at every layer, or one row per layer
    `[n_layers, hidden]`. `positions` picks where: every token, prompt tokens only,
    or generated (response) tokens only.
    """

    vector: "torch.Tensor"
    layers: Sequence[int]
    coef: float = 1.0
    positions: Positions = "all"

    def apply(self, h: "torch.Tensor", layer: int, mask: "torch.Tensor | None") -> "torch.Tensor":
        delta = self.coef * _row(self.vector, layer)
        return h + (delta if mask is None else delta * mask)


@dataclass(frozen=True, eq=False)
class Ablate:
    """Remove the component along `direction` at each layer in `layers` (all positions)."""

    direction: "torch.Tensor"
    layers: Sequence[int]
    positions: Positions = "all"

    def apply(self, h: "torch.Tensor", layer: int, mask: "torch.Tensor | None") -> "torch.Tensor":
        u = _unit(_row(self.direction, layer))
        delta = -(h @ u).unsqueeze(-1) * u
        return h + (delta if mask is None else delta * mask)


@dataclass(frozen=True, eq=False)
class Cap:
    """Clamp the projection on unit(`direction`) to [`min`, `max`] at each layer.

    Thresholds are one number for all layers or a `{layer: value}` mapping; `None`
    leaves that side open. This is the assistant-axis style clamp: only the
    component along the direction changes.
    """

    direction: "torch.Tensor"
    layers: Sequence[int]
    min: float | Mapping[int, float] | None = None
    max: float | Mapping[int, float] | None = None
    positions: Positions = "all"

    def __post_init__(self) -> None:
        if self.min is None and self.max is None:
            raise PersonascopeError("a cap needs a min, a max or both")

    def apply(self, h: "torch.Tensor", layer: int, mask: "torch.Tensor | None") -> "torch.Tensor":
        u = _unit(_row(self.direction, layer))
        proj = h @ u
        clamped = proj.clamp(min=_per_layer(self.min, layer), max=_per_layer(self.max, layer))
        delta = (clamped - proj).unsqueeze(-1) * u
        return h + (delta if mask is None else delta * mask)


Intervention = AddVector | Ablate | Cap


@dataclass
class PositionState:
    """Which positions of the current forward pass are response tokens.

    During KV-cached decoding every new position is a response token; during a
    prefill pass the engine may set `response_mask` (scoring and capture feed
    prompt and response together); otherwise a prefill is all prompt.
    """

    decode: bool = False
    response_mask: "torch.Tensor | None" = None

    def mask(self, positions: Positions, h: "torch.Tensor") -> "torch.Tensor | None":
        import torch

        if positions == "all":
            return None
        batch, seq = h.shape[:2]
        if self.decode:
            is_response = torch.ones(batch, seq, dtype=torch.bool, device=h.device)
        elif self.response_mask is not None and tuple(self.response_mask.shape) == (batch, seq):
            is_response = self.response_mask.to(h.device)
        else:
            is_response = torch.zeros(batch, seq, dtype=torch.bool, device=h.device)
        chosen = is_response if positions == "response" else ~is_response
        return chosen.unsqueeze(-1).to(h.dtype)


@dataclass
class InterventionHandle:
    """Installed interventions; `remove()` or leave the `with` block to undo them."""

    handles: list = field(default_factory=list)

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles.clear()

    def __enter__(self) -> "InterventionHandle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def install(
    blocks: Sequence, interventions: Sequence[Intervention], state: PositionState, hidden_size: int
) -> InterventionHandle:
    """Register one forward hook per touched block, applying `interventions` in order."""
    import dataclasses

    import torch

    n_layers = len(blocks)
    device = next(blocks[0].parameters()).device
    by_layer: dict[int, list[Intervention]] = {}
    for item in interventions:
        name = "vector" if isinstance(item, AddVector) else "direction"
        vec = getattr(item, name)
        if not isinstance(vec, torch.Tensor):
            raise PersonascopeError(f"{type(item).__name__} needs a torch tensor, got {type(vec).__name__}")
        if vec.shape[-1] != hidden_size:
            raise PersonascopeError(
                f"vector has width {vec.shape[-1]} but the model's hidden size is {hidden_size}: "
                "use a vector extracted from this model"
            )
        if vec.ndim == 2 and vec.shape[0] != n_layers:
            raise PersonascopeError(
                f"vector has {vec.shape[0]} layer rows but the model has {n_layers} layers: "
                "use a vector extracted from this model, or pass a single row"
            )
        # Move the tensor once, here, not on every forward pass.
        item = dataclasses.replace(item, **{name: vec.detach().to(device=device, dtype=torch.float32)})
        for layer in item.layers:
            if not 0 <= layer < n_layers:
                raise PersonascopeError(f"layer {layer} is out of range: this model has layers 0..{n_layers - 1}")
            by_layer.setdefault(layer, []).append(item)

    def make_hook(layer: int, items: list[Intervention]):
        def hook(module, args, output):
            h = output[0] if isinstance(output, tuple) else output
            h32 = h.float()
            for item in items:
                h32 = item.apply(h32, layer, state.mask(item.positions, h32))
            h = h32.to(h.dtype)
            return (h, *output[1:]) if isinstance(output, tuple) else h

        return hook

    handle = InterventionHandle()
    for layer, items in by_layer.items():
        handle.handles.append(blocks[layer].register_forward_hook(make_hook(layer, items)))
    return handle
