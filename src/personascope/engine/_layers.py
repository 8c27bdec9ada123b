"""Finding a model's decoder blocks, whatever its architecture.

Layer-index convention (used everywhere in personascope): layer `i` is decoder
block `i`, counted from 0, and its activation is the residual stream at that
block's *output*. That is `output_hidden_states=True`'s `hidden_states[i + 1]`
(`hidden_states[0]` is the embedding output, which has no layer index). A vector
file has one row per layer in this convention, and an intervention at layer `i`
edits block `i`'s output.
"""

from torch import nn

from personascope.errors import PersonascopeError

# Llama, Qwen2/3, Mistral, Gemma 2/3 (text) ; Gemma 3 multimodal ; older wrappers ;
# GPT-2 family ; GPT-NeoX / Pythia ; OPT.
CANDIDATE_PATHS = (
    "model.layers",
    "model.language_model.layers",
    "language_model.model.layers",
    "transformer.h",
    "gpt_neox.layers",
    "model.decoder.layers",
)


def _walk(obj: object, path: str) -> object | None:
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def find_layers(model: nn.Module, path: str | None = None) -> nn.ModuleList:
    """The ModuleList of decoder blocks; `path` (dotted, e.g. `model.layers`) overrides."""
    if path:
        found = _walk(model, path)
        if not isinstance(found, nn.ModuleList):
            raise PersonascopeError(
                f"layers_path {path!r} is not a list of blocks in {type(model).__name__}: "
                "give the dotted path of its decoder ModuleList (e.g. model.layers)"
            )
        return found
    for candidate in CANDIDATE_PATHS:
        found = _walk(model, candidate)
        if isinstance(found, nn.ModuleList) and len(found) > 0:
            return found
    raise PersonascopeError(
        f"cannot find the decoder layers of {type(model).__name__}: pass layers_path "
        "(the dotted path of its decoder ModuleList, e.g. model.layers)"
    )


def check_layers(layers: list[int], n_layers: int) -> list[int]:
    """Validate layer indices; negative indices count from the end."""
    out = []
    for layer in layers:
        idx = layer + n_layers if layer < 0 else layer
        if not 0 <= idx < n_layers:
            raise PersonascopeError(
                f"layer {layer} is out of range: this model has layers 0..{n_layers - 1}"
            )
        out.append(idx)
    return out
