"""The one model handle.

`get_model(name | ModelConfig | Model)` is the only place a name becomes a model.
Names: `smollm2` (embedded, white-box); `hf/<path-or-id>` (any transformers
checkpoint, a finetuned checkpoint directory, or a PEFT adapter directory:
white-box); `run:<RUN>/<artifact path>` (a model a run saved); any other
`provider/model` string goes to Inspect's model layer (black-box: generation only).
A `Model` caches every call through `personascope.store`.
"""

from personascope.models._config import ModelConfig
from personascope.models._embedded import gguf_path
from personascope.models._generate import generate, prepare, read_prompts
from personascope.models._get import get_model
from personascope.models._list import list_models
from personascope.models._load import load_engine, model_info, weights_fingerprint
from personascope.models._model import Model, vector_digest
from personascope.models._names import EMBEDDED, ModelRef, parse_model_name

__all__ = [
    "EMBEDDED",
    "Model",
    "ModelConfig",
    "ModelRef",
    "generate",
    "get_model",
    "gguf_path",
    "list_models",
    "load_engine",
    "model_info",
    "parse_model_name",
    "prepare",
    "read_prompts",
    "vector_digest",
    "weights_fingerprint",
]
