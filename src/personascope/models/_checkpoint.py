"""What a white-box name points at: a checkpoint directory, a hub id, or a PEFT
adapter directory over a base model that is itself any white-box name.

Resolving reads only small files (configs, the first and last MiB of each weight
file), so fingerprints and layer counts never load a model.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from personascope.errors import PersonascopeError
from personascope.models._names import BASE_EMBEDDED, EMBEDDED_NAMES, ModelRef, parse_model_name

ADAPTER_CONFIG = "adapter_config.json"
_MAX_DEPTH = 4  # adapters over adapters: deeper than this is a loop in the configs


@dataclass(frozen=True)
class Checkpoint:
    """A resolved white-box model. For an adapter, `source` is the adapter directory
    and `base` the checkpoint it applies to."""

    source: str
    """The directory or hub id `from_pretrained` reads."""
    weights: str
    """Fingerprint of the weights; for an adapter it covers the base's fingerprint,
    the adapter's config and the adapter's weights."""
    config_dir: str
    """Where `config.json` (layer count, width) lives: the base's for an adapter."""
    tokenizer_dir: str
    """Where the tokenizer is read: the adapter's own if it saved one, else the base's."""
    base: "Checkpoint | None" = None
    """The base model of an adapter; None for a full checkpoint."""


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


def resolve_checkpoint(ref: ModelRef, _depth: int = 0) -> Checkpoint:
    """The checkpoint a white-box name points at (converting the embedded model once)."""
    if ref.kind == "embedded":
        from personascope.models._embedded import converted_dir
        from personascope.models._gemma import converted_dir as gemma_dir

        path, digest = gemma_dir() if ref.target == BASE_EMBEDDED else converted_dir()
        return Checkpoint(str(path), digest, str(path), str(path))
    if ref.kind == "run":
        from personascope._runsdir import run_artifact

        return _directory(run_artifact(ref.target), ref, _depth)
    if ref.kind != "hf":
        raise PersonascopeError(f"{ref.name} is a black-box model: it has no checkpoint to load")
    target = Path(ref.target).expanduser()
    if target.exists():
        return _directory(target, ref, _depth)
    looks_local = ref.target.startswith((".", "/", "~")) or ref.target.count("/") != 1
    if looks_local:
        raise PersonascopeError(f"no such model directory: {ref.target} (check the path after hf/)")
    return _hub(ref, _depth)


def _offline() -> bool:
    import os

    # huggingface_hub reads these once, at import; read them again for a process that set them later.
    flags = (os.environ.get("HF_HUB_OFFLINE", ""), os.environ.get("TRANSFORMERS_OFFLINE", ""))
    return any(f.strip().upper() in {"1", "ON", "YES", "TRUE"} for f in flags)


def _hub(ref: ModelRef, depth: int) -> Checkpoint:
    """A hub id: its snapshot in the local Hugging Face cache (loaded from there, with no
    network), else, when downloads are allowed, the hub id once one quick request shows
    the hub has it. Without that check a typo or a missing network costs a minute of
    retries inside transformers before it fails."""
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url, try_to_load_from_cache
    from huggingface_hub.errors import EntryNotFoundError, GatedRepoError, RepositoryNotFoundError

    from huggingface_hub.errors import HFValidationError

    hub_id = ref.target
    for name in ("config.json", ADAPTER_CONFIG):
        try:
            found = try_to_load_from_cache(hub_id, name)
        except HFValidationError as exc:
            raise PersonascopeError(
                f"no such model directory: {hub_id}, and it is not a valid hub id ({exc}): check the name after hf/"
            ) from None
        if isinstance(found, str):
            snapshot = Path(found).parent
            if name == ADAPTER_CONFIG:
                return _adapter(snapshot, depth)
            # Named by the hub id, as before it was downloaded, so cached calls stay valid.
            return Checkpoint(str(snapshot), f"hub:{hub_id}", str(snapshot), str(snapshot))
    missing = (
        f"{ref.name}: {hub_id} is neither a directory nor in the local Hugging Face cache ({constants.HF_HUB_CACHE})"
    )
    local = f"give hf/ the path of a downloaded checkpoint (e.g. hf/./{hub_id.split('/')[-1]}), or fix the name"
    if _offline() or constants.HF_HUB_OFFLINE:
        raise PersonascopeError(
            f"{missing}, and downloads are off (HF_HUB_OFFLINE): {local}, or download it where there is "
            f"network (`hf download {hub_id}`) and copy the cache or the folder here"
        )
    try:
        get_hf_file_metadata(hf_hub_url(hub_id, "config.json"), timeout=10)
    except GatedRepoError:
        raise PersonascopeError(f"{missing}, and the hub says it is gated: accept its terms on the hub and log in (`hf auth login`)") from None
    except RepositoryNotFoundError:
        raise PersonascopeError(f"{missing}, and the hub has no such model (or it is private: log in with `hf auth login`): {local}") from None
    except EntryNotFoundError:
        pass  # the repository exists without a config.json (an adapter); transformers and peft take it from here
    except Exception as exc:  # no network, DNS, proxy, timeout: huggingface_hub raises httpx's and its own types
        from personascope.models._inspect import error_text

        raise PersonascopeError(
            f"{missing}, and the hub cannot be reached ({error_text(exc)}): {local}, or set HF_HUB_OFFLINE=1 "
            "to work from local files only"
        ) from None
    return Checkpoint(hub_id, f"hub:{hub_id}", hub_id, hub_id)


def _directory(path: Path, ref: ModelRef, depth: int) -> Checkpoint:
    if (path / ADAPTER_CONFIG).is_file():
        return _adapter(path, depth)
    if not (path / "config.json").is_file():
        what = "hf/" if ref.kind == "hf" else "the run artifact"
        raise PersonascopeError(
            f"{path} has no config.json: point {what} at a transformers checkpoint directory "
            f"or a PEFT adapter directory (with {ADAPTER_CONFIG})"
        )
    return Checkpoint(str(path), weights_fingerprint(path), str(path), str(path))


def _adapter(path: Path, depth: int) -> Checkpoint:
    config_file = path / ADAPTER_CONFIG
    try:
        config = json.loads(config_file.read_text())
    except (OSError, ValueError) as exc:
        raise PersonascopeError(f"{config_file} is not valid JSON ({exc}): re-save the adapter") from None
    base = config.get("base_model_name_or_path") if isinstance(config, dict) else None
    if not isinstance(base, str) or not base.strip():
        raise PersonascopeError(
            f"{config_file} names no base model: set base_model_name_or_path to a checkpoint directory "
            "or a model name (smollm2, hf/<path>, run:<RUN>/<artifact>)"
        )
    if depth >= _MAX_DEPTH:
        raise PersonascopeError(f"{config_file}: adapters nest deeper than {_MAX_DEPTH} levels; check base_model_name_or_path")
    try:
        base_ck = resolve_checkpoint(_base_ref(base.strip(), path), depth + 1)
    except PersonascopeError as exc:
        raise PersonascopeError(f"the base model of adapter {path}: {exc}") from None
    # The base's location is left out: the base's weights are hashed in its own right,
    # so a moved base (or an adapter copied to another machine) keeps its fingerprint.
    adapter = {k: v for k, v in config.items() if k != "base_model_name_or_path"}
    h = hashlib.sha256()
    h.update(json.dumps(adapter, sort_keys=True, default=str).encode())
    h.update(weights_fingerprint(path).encode())
    weights = hashlib.sha256(f"adapter|{base_ck.weights}|{h.hexdigest()}".encode()).hexdigest()
    own_tokenizer = (path / "tokenizer_config.json").is_file()
    return Checkpoint(str(path), weights, base_ck.config_dir, str(path) if own_tokenizer else base_ck.tokenizer_dir, base_ck)


def _base_ref(base: str, adapter_dir: Path) -> ModelRef:
    """The white-box name of an adapter's base: a personascope name, a local directory
    (as given, or relative to the adapter), else a hub id."""
    if base in EMBEDDED_NAMES or base.startswith(("hf/", "run:", "personascope/")):
        ref = parse_model_name(base)
        if not ref.white_box:
            raise PersonascopeError(f"{base} is a black-box model: an adapter needs a white-box base")
        return ref
    for candidate in (Path(base).expanduser(), adapter_dir / base):
        if candidate.is_dir():
            target = str(candidate.resolve())
            return ModelRef(name=f"hf/{target}", kind="hf", target=target)
    return ModelRef(name=f"hf/{base}", kind="hf", target=base)


def load_weights(checkpoint: Checkpoint, torch_dtype):
    """A fresh transformers model for `checkpoint`; an adapter is merged into its base,
    so hooks and layer lookup see a plain model. Never shared: merging changes the
    base's weights in place."""
    from transformers import AutoModelForCausalLM

    if checkpoint.base is None:
        return AutoModelForCausalLM.from_pretrained(checkpoint.source, dtype=torch_dtype)
    from peft import PeftModel

    base = load_weights(checkpoint.base, torch_dtype)
    return PeftModel.from_pretrained(base, checkpoint.source).merge_and_unload()


def text_config(checkpoint: Checkpoint) -> dict:
    """The model's (text) config as JSON, read from config.json without transformers;
    empty when there is no local config (a hub id)."""
    config_file = Path(checkpoint.config_dir) / "config.json"
    try:
        config = json.loads(config_file.read_text()) if config_file.is_file() else {}
    except ValueError as exc:
        raise PersonascopeError(f"{config_file} is not valid JSON ({exc}): re-save the checkpoint") from None
    return config.get("text_config", config)
