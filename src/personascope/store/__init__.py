"""Plain persistence: the content-addressed call cache and the per-run store.

Nothing here knows of models or protocols (the cached model lives in
`personascope.models`)."""

from personascope.store._cache import Cache, cache_key, default_cache_path, storage_error
from personascope.store._runstore import STORE_NAME, Artifact, Metric, RunStore, Transcript

__all__ = [
    "STORE_NAME",
    "Artifact",
    "Cache",
    "storage_error",
    "Metric",
    "RunStore",
    "Transcript",
    "cache_key",
    "default_cache_path",
]
