"""The checks `study run` would make of a step's interventions once its model loads,
made at validation instead: layers in the model's range, vectors of its width,
finite, and extracted from it. The model's shape comes from its config.json (or the
embedded model's GGUF header): no weights load."""

from pathlib import Path

from personascope.engine import InterventionItem, check_layer_range
from personascope.errors import PersonascopeError
from personascope.models import ModelConfig, get_model, parse_model_name


def _shape(config: ModelConfig, shapes: dict) -> tuple | None:
    """(layers, hidden, weights hash) of a local white-box model, else None (a hub id
    or a run's model is checked when it loads)."""
    if config.name not in shapes:
        ref = parse_model_name(config.name)
        local = ref.kind == "embedded" or (ref.kind == "hf" and Path(ref.target).expanduser().exists())
        shapes[config.name] = None
        if local:
            handle = get_model(config)
            shapes[config.name] = (handle.n_layers(), handle.hidden_size(), handle._weights())
    return shapes[config.name]


def check_step_specs(step, models: dict[str, ModelConfig], step_ids: list, base_dir: Path, *,
                     allow_other_model: bool = False, shapes: dict | None = None) -> list[tuple[tuple, str, str]]:
    """(location, problem, fix) for each intervention of `step` that would fail on a
    model it runs on."""
    shapes = {} if shapes is None else shapes
    arms = getattr(step, "arms", None) or {}
    if not any(arm.specs() for arm in arms.values()):
        return []  # nothing to check: no model is looked at
    names = [step.model] if isinstance(step.model, str) else (step.model or list(models))
    problems = []
    for alias in names:
        if alias not in models:
            continue
        try:
            shape = _shape(models[alias], shapes)
        except PersonascopeError as exc:
            problems.append((("models", alias), str(exc), "fix the model entry"))
            continue
        if shape is None:
            continue
        n_layers, hidden, weights = shape
        for arm_name, arm in arms.items():
            for kind, spec in arm.specs():
                where = ("arms", arm_name, kind)
                try:
                    item = InterventionItem.parse(kind, spec)
                    if item.vector in step_ids:  # made by a step: only its layers can be checked now
                        check_layer_range(item.layers, n_layers)
                        continue
                    path = base_dir / Path(item.vector).expanduser()
                    if not path.exists():  # reported as a missing reference already
                        continue
                    item.model_copy(update={"vector": str(path)}).check(
                        n_layers, hidden, model=models[alias].name, weights=weights, allow_other_model=allow_other_model
                    )
                except PersonascopeError as exc:
                    problems.append((where, f"{spec!r} on {alias}: {exc}", "see docs/engine.md (interventions)"))
    return problems
