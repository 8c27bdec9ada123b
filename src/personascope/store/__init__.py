"""The content-addressed call cache and the per-run store."""

from personascope.store._cache import Cache, cache_key, default_cache_path
from personascope.store._calls import CachedModel, vector_digest
from personascope.store._runstore import STORE_NAME, Artifact, Metric, RunStore, Transcript

__all__ = [
    "STORE_NAME",
    "Artifact",
    "Cache",
    "CachedModel",
    "Metric",
    "RunStore",
    "Transcript",
    "cache_key",
    "default_cache_path",
    "vector_digest",
]
