"""personascope's white-box engine as an Inspect model provider.

`inspect eval task.py --model personascope/smollm2 -M steer=<vector>@<layer>:<coef>`
runs any Inspect task against a local model with steering, ablation or capping,
and records per-response projections in each output's metadata. Any white-box
name works after `personascope/`: `hf/<checkpoint or adapter dir>`, `run:<RUN>/<artifact>`.
The provider is registered through the `inspect_ai` entry point (`_registry`);
see docs/inspect.md.

The names below load on first use: the API class needs inspect_ai, and importing
this package must not.
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from personascope.inspect_provider._api import MODEL_ARGS, PersonascopeAPI, register_engine, unregister_engine
    from personascope.inspect_provider._batcher import engine_lock

_LAZY = {
    "MODEL_ARGS": "_api",
    "PersonascopeAPI": "_api",
    "register_engine": "_api",
    "unregister_engine": "_api",
    "engine_lock": "_batcher",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f"personascope.inspect_provider.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'personascope.inspect_provider' has no attribute {name!r}")


__all__ = ["MODEL_ARGS", "PersonascopeAPI", "engine_lock", "register_engine", "unregister_engine"]
