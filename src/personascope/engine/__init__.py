"""The white-box engine for local transformers models.

Batched generation, continuation scoring, next-token logprobs, pooled activation
capture, and removable interventions (add, ablate, cap). Layer `i` is decoder
block `i`'s output (see `personascope.engine._layers` for the convention).
"""

from personascope.engine._chat import Message, Prompt, render, to_messages
from personascope.engine._engine import Engine
from personascope.engine._interventions import Ablate, AddVector, Cap, InterventionHandle, Intervention
from personascope.engine._layers import find_layers
from personascope.engine._types import POOLINGS, Activations, GenerateConfig, Generation, Scored

__all__ = [
    "POOLINGS",
    "Ablate",
    "Activations",
    "AddVector",
    "Cap",
    "Engine",
    "GenerateConfig",
    "Generation",
    "Intervention",
    "InterventionHandle",
    "Message",
    "Prompt",
    "Scored",
    "find_layers",
    "render",
    "to_messages",
]
