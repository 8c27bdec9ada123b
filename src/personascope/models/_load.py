"""Loading white-box models into the engine."""

import hashlib
import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from personascope.errors import PersonascopeError
from personascope.models._names import ModelRef, parse_model_name

if TYPE_CHECKING:
    from personascope.engine import Engine


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


def weights_fingerprint(path: Path) -> str:
    """A cheap fingerprint of a local checkpoint: its config plus each weight file's
    name, size and first and last MiB. Hashing every byte of a 70B model on each
    load would take minutes."""
    h = hashlib.sha256()
    config = path / "config.json"
    if config.is_file():
        h.update(config.read_bytes())
    for f in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        size = f.stat().st_size
        h.update(f"{f.name}:{size}".encode())
        with open(f, "rb") as fh:
            h.update(fh.read(1 << 20))
            fh.seek(max(0, size - (1 << 20)))
            h.update(fh.read(1 << 20))
    return h.hexdigest()


def _checkpoint(ref: ModelRef) -> tuple[str, str]:
    """(path or hub id to load, weights hash) for a white-box model."""
    if ref.kind == "embedded":
        from personascope.models._embedded import converted_dir

        path, digest = converted_dir()
        return str(path), digest
    target = Path(ref.target).expanduser()
    if target.exists():
        if not (target / "config.json").is_file():
            raise PersonascopeError(f"{target} has no config.json: point hf/ at a transformers checkpoint directory")
        return str(target), weights_fingerprint(target)
    looks_local = ref.target.startswith((".", "/", "~")) or ref.target.count("/") != 1
    if looks_local:
        raise PersonascopeError(f"no such model directory: {ref.target} (check the path after hf/)")
    return ref.target, f"hub:{ref.target}"


def load_engine(
    name: str | ModelRef,
    *,
    dtype: str = "auto",
    device: str = "auto",
    layers_path: str | None = None,
) -> "Engine":
    """Load a white-box model (`smollm2` or `hf/<path-or-id>`) into an `Engine`.

    Loaded models are kept for the life of the process, so the CLI, the Inspect
    provider and studies share one copy.
    """
    ref = parse_model_name(name) if isinstance(name, str) else name
    if not ref.white_box:
        raise PersonascopeError(
            f"{ref.name} is a black-box (API) model: white-box work (activations, steering) needs "
            "smollm2 or hf/<path>; use it through Inspect for generation"
        )
    device = resolve_device(device)
    return _load(ref, dtype, device, layers_path)


@lru_cache(maxsize=4)
def _load(ref: ModelRef, dtype: str, device: str, layers_path: str | None) -> "Engine":
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from personascope.engine import Engine

    source, digest = _checkpoint(ref)
    torch_dtype = resolve_dtype(dtype, device)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=torch_dtype)
    except OSError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PersonascopeError(
            f"cannot load {ref.name}: {first} (hub ids need network access; otherwise download the "
            "checkpoint and use hf/<local path>)"
        ) from exc
    model.to(device)
    return Engine(model, tokenizer, name=ref.name, weights_hash=digest, layers_path=layers_path)


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
        "chat_template": engine.has_chat_template,
        "weights_hash": engine.weights_hash,
        "vocab_size": int(config.get_text_config().vocab_size),
    }


def dumps(info: dict) -> str:
    return json.dumps(info, indent=2, sort_keys=True)
