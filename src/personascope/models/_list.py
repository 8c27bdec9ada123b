"""What `models list` shows: the embedded models, converted copies, and the black-box forms."""

from personascope._paths import models_dir


def list_models() -> list[dict]:
    """Known model names with how each is reached."""
    from personascope.errors import PersonascopeError
    from personascope.models._embedded import gguf_path

    rows = []
    try:
        source = str(gguf_path())
        status = "installed"
    except PersonascopeError as exc:
        source, status = str(exc), "missing"
    converted = sorted(p.name for p in models_dir().glob("smollm2-*")) if models_dir().is_dir() else []
    rows.append({
        "name": "smollm2",
        "kind": "embedded (white-box)",
        "status": status + (", converted" if converted else ", converts on first load"),
        "source": source,
    })
    try:
        from personascope.models._gemma import chunk_paths

        source, status = str(chunk_paths()[0].parent), "installed"
    except PersonascopeError as exc:
        source, status = str(exc), "not installed (opt-in)"
    converted = sorted(p.name for p in models_dir().glob("gemma3-base-*")) if models_dir().is_dir() else []
    rows.append({
        "name": "gemma3-base",
        "kind": "embedded base model (white-box, document frame)",
        "status": status + (", converted" if converted else ""),
        "source": source,
    })
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
