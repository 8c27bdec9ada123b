"""`get_model`: the one place a name becomes a model."""

from typing import TYPE_CHECKING

from personascope.errors import PersonascopeError
from personascope.models._config import ModelConfig
from personascope.models._model import Model

if TYPE_CHECKING:
    from personascope.store import Cache



def get_model(model: "str | ModelConfig | Model", cache: "Cache | None" = None, **options) -> Model:
    """A `Model` from a name, a `ModelConfig` (an alias's full config: dtype, device,
    layers path, Inspect args) or a `Model` (returned as it is).

    `cache` is the call cache the model reads and writes (default: the user cache);
    `options` are `ModelConfig` fields for a bare name (`dtype=`, `args=`, ...).
    """
    if isinstance(model, Model):
        if options:
            raise PersonascopeError("get_model: options apply to a name or a config, not to a loaded Model")
        return model
    if isinstance(model, str):
        model = ModelConfig(name=model, **options)
    elif isinstance(model, ModelConfig):
        if options:
            model = model.model_copy(update=options)
    else:
        raise PersonascopeError(f"get_model takes a model name, a ModelConfig or a Model, not {type(model).__name__}")
    return Model(model.name, cache, dtype=model.dtype, device=model.device, layers_path=model.layers_path,
                 model_args=model.args, frame=model.frame)
