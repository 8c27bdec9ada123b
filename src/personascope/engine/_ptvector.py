"""persona_vectors `.pt` vectors, read as personascope vectors.

persona_vectors (Chen et al., 2025) saves a vector as `torch.save` of one float tensor
`[n_hidden_states, hidden]`: row `r` is the mean difference at `hidden_states[r]` of a
transformers forward pass. Row 0 is the embeddings, row `r` (1 <= r < n_blocks) is the
output of decoder block `r - 1`, and the last row is the last block's output after the
model's final norm (transformers applies it before returning the last hidden state).

personascope's layer `i` is the output of decoder block `i`, so layer `i` is row
`i + 1`: the embeddings row is dropped, and the last layer comes from the final-norm
row (the only one the file has for that block; its scale differs from the other
layers' by the norm). A file with one row only (a single layer's vector) is refused:
which layer it is cannot be told from the file.
"""

from pathlib import Path

from personascope.errors import PersonascopeError

SUFFIX = ".pt"
FIRST_ROW = 1  # row 0 is the embeddings
META = {
    "source": "persona_vectors .pt",
    "layer_convention": "layer i = row i + 1 of the .pt (row 0, the embeddings, dropped)",
    "last_layer": "after the final norm",
}


def is_pt(path: str | Path) -> bool:
    return Path(path).suffix == SUFFIX


def load_pt(path: str | Path):
    """The `[n_blocks, hidden]` float32 tensor of a persona_vectors `.pt` file, in layer order."""
    import pickle

    import torch

    path = Path(path).expanduser()
    if not path.is_file():
        raise PersonascopeError(f"no vector at {path}: expected a persona_vectors .pt file")
    try:
        # weights_only: a .pt is a pickle; this refuses anything but plain tensors.
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, OSError, EOFError, ValueError) as exc:
        raise PersonascopeError(f"{path} is not a tensor file torch can read safely ({exc}): is it a persona_vectors vector?") from None
    if not isinstance(data, torch.Tensor) or data.dim() != 2 or not data.is_floating_point():
        what = f"a {data.dim()}-d tensor" if isinstance(data, torch.Tensor) else type(data).__name__
        raise PersonascopeError(
            f"{path} holds {what}, not a [hidden states, hidden] float tensor as persona_vectors saves (fix: pass one of its *_diff.pt files)"
        )
    if data.shape[0] < 2:
        raise PersonascopeError(f"{path} has one row: a vector for every hidden state (embeddings first) is needed to tell the layers apart")
    return data[FIRST_ROW:].detach().to(torch.float32).contiguous()


def pt_shape(path: str | Path) -> tuple[int, int]:
    rows, width = load_pt(path).shape
    return int(rows), int(width)
