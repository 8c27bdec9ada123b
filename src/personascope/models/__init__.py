"""Naming and loading models.

`smollm2` is the embedded default (white-box); `hf/<path-or-id>` is any local
transformers checkpoint (white-box); any other `provider/model` string goes to
Inspect's model layer (black-box: generation only).
"""

from personascope.models._embedded import gguf_path
from personascope.models._list import list_models
from personascope.models._load import load_engine, model_info, weights_fingerprint
from personascope.models._names import EMBEDDED, ModelRef, parse_model_name

__all__ = [
    "EMBEDDED",
    "ModelRef",
    "gguf_path",
    "list_models",
    "load_engine",
    "model_info",
    "parse_model_name",
    "weights_fingerprint",
]
