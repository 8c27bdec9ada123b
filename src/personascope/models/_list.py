"""What `models list` shows: the embedded models, converted copies, and the black-box forms."""

from personascope._paths import models_dir


def _embedded(name: str, kind: str, locate, missing: str, unconverted: str) -> dict:
    """One embedded model's row: where its file is (or why not), and whether it is converted."""
    from personascope.errors import PersonascopeError

    try:
        source, status = str(locate()), "installed"
    except PersonascopeError as exc:
        source, status = str(exc), missing
    converted = models_dir().is_dir() and any(models_dir().glob(f"{name}-*"))
    return {"name": name, "kind": kind, "status": status + (", converted" if converted else unconverted), "source": source}


def list_models() -> list[dict]:
    """Known model names with how each is reached."""
    from personascope.models._embedded import gguf_path
    from personascope.models._gemma import chunk_paths

    rows = [
        _embedded("smollm2", "embedded (white-box)", gguf_path, "missing", ", converts on first load"),
        _embedded("gemma3-base", "embedded base model (white-box, document frame)",
                  lambda: chunk_paths()[0].parent, "not installed (opt-in)", ""),
    ]
    rows.append({
        "name": "hf/<path-or-id>",
        "kind": "local transformers (white-box)",
        "status": "any local checkpoint directory",
        "source": "transformers",
    })
    rows.append({
        "name": "<provider>/<model>",
        "kind": "Inspect model (black-box)",
        "status": "openai/..., anthropic/..., vllm/..., ollama/..., openai-api/<service>/...",
        "source": "inspect_ai",
    })
    return rows
