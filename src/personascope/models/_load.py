"""Loading white-box models into the engine."""

import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from personascope.errors import PersonascopeError
from personascope.models._checkpoint import Checkpoint, load_weights, resolve_checkpoint, weights_fingerprint
from personascope.models._names import ModelRef, parse_model_name

__all__ = ["load_engine", "model_info", "resolve_device", "dtype_name", "resolve_dtype", "weights_fingerprint"]

if TYPE_CHECKING:
    from personascope.engine import DocumentFrame, Engine


def default_frame(name: str) -> "DocumentFrame | None":
    """The document frame a model is prompted in unless its config names one: the
    default transcript for the embedded base model, none (the chat template) otherwise."""
    from personascope.models._names import BASE_EMBEDDED

    if name != BASE_EMBEDDED:
        return None
    from personascope.engine import DocumentFrame

    return DocumentFrame()


def resolve_device(device: str = "auto") -> str:
    if device != "auto":
        return device
    # Without a GPU driver's device files CUDA (or ROCm) cannot be available, so
    # skip importing torch (2+ s): a fully cached study never needs it.
    if "torch" not in sys.modules and not any(Path(p).exists() for p in ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd")):
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def dtype_name(dtype: str, device: str) -> str:
    """The dtype `auto` means on `device`, as a name (no torch import)."""
    if dtype == "auto":
        return "bfloat16" if device.startswith("cuda") else "float32"
    if dtype not in ("float32", "bfloat16", "float16"):
        raise PersonascopeError(f"unknown dtype {dtype!r}: choose auto, float32, bfloat16 or float16")
    return dtype


def resolve_dtype(dtype: str, device: str):
    import torch

    if dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    try:
        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    except KeyError:
        raise PersonascopeError(f"unknown dtype {dtype!r}: choose auto, float32, bfloat16 or float16") from None


def load_engine(
    name: str | ModelRef,
    *,
    dtype: str = "auto",
    device: str = "auto",
    layers_path: str | None = None,
    checkpoint: Checkpoint | None = None,
    frame: "DocumentFrame | None" = None,
) -> "Engine":
    """Load a white-box model (`smollm2`, `gemma3-base`, `hf/<path-or-id>` with a checkpoint or a PEFT
    adapter, or `run:<RUN>/<artifact>`) into an `Engine`.

    `checkpoint` is the name already resolved (a `Model` passes the one its
    fingerprint describes, so `run:latest/...` cannot change in between). Loaded
    models are kept for the life of the process, keyed by what was resolved, so the
    CLI, the Inspect provider and studies share one copy and a retrained directory
    is loaded afresh. `frame` is the document frame prompts are written in (default:
    `default_frame(name)`); base models without a chat template want one.
    """
    ref = parse_model_name(name) if isinstance(name, str) else name
    if not ref.white_box:
        raise PersonascopeError(
            f"{ref.name} is a black-box (API) model: white-box work (activations, steering) needs "
            "smollm2 or hf/<path>; use it through Inspect for generation"
        )
    device = resolve_device(device)
    frame = frame if frame is not None else default_frame(ref.name)
    return _load(ref.name, checkpoint or resolve_checkpoint(ref), dtype, device, layers_path, frame)


@lru_cache(maxsize=4)
def _load(
    name: str, checkpoint: Checkpoint, dtype: str, device: str, layers_path: str | None, frame: "DocumentFrame | None"
) -> "Engine":
    from transformers import AutoTokenizer

    from personascope.engine import Engine

    torch_dtype = resolve_dtype(dtype, device)
    try:
        tokenizer = AutoTokenizer.from_pretrained(checkpoint.tokenizer_dir)
        model = load_weights(checkpoint, torch_dtype)
    except OSError as exc:
        from personascope.models._inspect import error_text

        raise PersonascopeError(
            f"cannot load {name}: {error_text(exc)} (hub ids need network access; otherwise download the "
            "checkpoint and use hf/<local path>)"
        ) from exc
    model.to(device)
    return Engine(model, tokenizer, name=name, weights_hash=checkpoint.weights, layers_path=layers_path, frame=frame)


def model_info(engine: "Engine") -> dict:
    """What `models show` prints about a loaded model."""
    config = engine.model.config
    n_params = sum(p.numel() for p in engine.model.parameters())
    return {
        "name": engine.name,
        "architecture": (config.architectures or [type(engine.model).__name__])[0],
        "model_type": config.model_type,
        "layers": engine.n_layers,
        "hidden_size": engine.hidden_size,
        "parameters": n_params,
        "dtype": str(engine.dtype).removeprefix("torch."),
        "device": str(engine.device),
        "chat_template": engine.has_chat_template and engine.frame is None,
        "frame": None if engine.frame is None else engine.frame.model_dump(mode="json"),
        "weights_hash": engine.weights_hash,
        "vocab_size": int(config.get_text_config().vocab_size),
    }


def dumps(info: dict) -> str:
    return json.dumps(info, indent=2, sort_keys=True)
