"""personascope's white-box engine as an Inspect model provider.

`inspect eval task.py --model personascope/smollm2 -M steer=<vector>@<layer>:<coef>`
runs any Inspect task against a local model with steering, ablation or capping,
and records per-response projections in each output's metadata. The provider is
registered through the `inspect_ai` entry point (`_registry`); see docs/inspect.md.
"""

from personascope.inspect_provider._api import MODEL_ARGS, PersonascopeAPI, register_engine, unregister_engine
from personascope.inspect_provider._batcher import engine_lock

__all__ = ["MODEL_ARGS", "PersonascopeAPI", "engine_lock", "register_engine", "unregister_engine"]
