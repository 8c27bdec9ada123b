"""The white-box engine for local transformers models.

Batched generation, continuation scoring, next-token logprobs, pooled activation
capture, and removable interventions (add, ablate, cap) described by one
serializable `InterventionSpec`. Layer `i` is decoder
block `i`'s output (see `personascope.engine._layers` for the convention).

Names that need torch load on first use, so code that only needs the configs
and prompt helpers (a fully cached study rerun, the CLI's argument checks) does
not pay torch's import time.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from personascope.engine._chat import DocumentFrame, Message, Prompt, render, to_messages
from personascope.engine._spec import FORMS, InterventionItem, InterventionSpec, check_layer_range, parse_layers
from personascope.engine._types import POOLINGS, Activations, GenerateConfig, Generation, Scored
from personascope.engine._vectorfile import vector_digest

if TYPE_CHECKING:
    from personascope.engine._engine import Engine
    from personascope.engine._interventions import Ablate, AddVector, Cap, Intervention, InterventionHandle
    from personascope.engine._layers import find_layers

_LAZY = {
    "Engine": "_engine",
    "Ablate": "_interventions",
    "AddVector": "_interventions",
    "Cap": "_interventions",
    "Intervention": "_interventions",
    "InterventionHandle": "_interventions",
    "find_layers": "_layers",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f"personascope.engine.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'personascope.engine' has no attribute {name!r}")


__all__ = [
    "FORMS",
    "POOLINGS",
    "Ablate",
    "Activations",
    "AddVector",
    "Cap",
    "DocumentFrame",
    "Engine",
    "GenerateConfig",
    "Generation",
    "Intervention",
    "InterventionHandle",
    "InterventionItem",
    "InterventionSpec",
    "check_layer_range",
    "Message",
    "Prompt",
    "Scored",
    "find_layers",
    "parse_layers",
    "render",
    "to_messages",
    "vector_digest",
]
