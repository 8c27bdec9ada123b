"""The `inspect_ai` entry point: registers the `personascope` model API.

Inspect imports this module whenever it looks for extensions, so it stays light:
the provider class (and with it the engine, torch and transformers) is imported
only when a `personascope/...` model is actually built.
"""

from inspect_ai.model import ModelAPI, modelapi


@modelapi(name="personascope")
def personascope() -> type[ModelAPI]:
    from personascope.inspect_provider._api import PersonascopeAPI

    return PersonascopeAPI
