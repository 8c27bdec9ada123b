"""Persona space: role vectors, their principal components and the assistant axis.

A role vector is the mean response activation under a role's system prompt minus
that of the default assistant (no system prompt, or the model's own default),
per layer, each response read with its own system prompt in context. PCA over
role vectors shows how few directions span the roles (P4.1, P4.6); the assistant
axis (default minus the mean of the roles) is the direction along which a
conversation drifts away from the assistant (P3.2), and capping the projection
on it at the default assistant's own range is the assistant-axis defence.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from personascope.errors import PersonascopeError
from personascope.vectors._compare import atomic_write, plain_json
from personascope.vectors._vector import PersonaVector

if TYPE_CHECKING:
    import numpy as np
    import torch

ROLES_FILE = Path(__file__).parent / "data" / "roles.yaml"
Roles = Mapping[str, str] | Sequence[Any]
"""{name: system prompt}, or trait specs (their positive instructions are the role)."""


def load_roles(path: str | Path | None = None) -> tuple[dict[str, str], list[str]]:
    """(roles, questions) from a YAML/JSON file: `{roles: {name: prompt}, questions: [...]}`
    or a bare `{name: prompt}` mapping (then the built-in questions). None: the built-ins."""
    import yaml

    path = Path(path).expanduser() if path is not None else ROLES_FILE
    if not path.is_file():
        raise PersonascopeError(f"no such roles file: {path}")
    from personascope._yamlerrors import load_yaml, read_text

    data = load_yaml(read_text(path, "roles file"), str(path))
    builtin = yaml.safe_load(ROLES_FILE.read_text())
    if isinstance(data, dict) and "roles" in data:
        roles, questions = data["roles"], data.get("questions") or builtin["questions"]
    else:
        roles, questions = data, builtin["questions"]
    if not isinstance(roles, dict) or not roles or not all(isinstance(v, str) and v.strip() for v in roles.values()):
        raise PersonascopeError(f"{path}: 'roles' must map each role name to a non-empty system prompt")
    return {str(k): v for k, v in roles.items()}, [str(q) for q in questions]


def _systems(roles: Roles) -> dict[str, list[str]]:
    if isinstance(roles, Mapping):
        return {name: [prompt] for name, prompt in roles.items()}
    return {spec.name: [pair.pos for pair in spec.instructions] for spec in roles}


def role_activations(
    roles: Roles, model: Any, *, questions: Sequence[str], default_system: str | None = None,
    max_tokens: int = 64, cache=None, progress: bool = False,
) -> tuple["torch.Tensor", dict[str, "torch.Tensor"]]:
    """Per-response mean activations at every layer: the default assistant's
    `[n, layers, hidden]` and each role's. A trait spec's several positive prompts
    take turns over the questions."""
    import torch

    from personascope._progress import track
    from personascope.engine import GenerateConfig
    from personascope.models import get_model

    cm = get_model(model, cache=cache)
    questions = list(questions)
    if not questions:
        raise PersonascopeError("persona space needs at least one question")
    config = GenerateConfig(max_new_tokens=max_tokens)

    def acts(system: str | None, qs: list[str]) -> "torch.Tensor":
        answers = [g.text for g in cm.generate(qs, config, system=system)]
        return cm.capture(qs, answers, system=system)["response_mean"]

    systems = _systems(roles)
    out: dict[str, torch.Tensor] = {}
    default = None
    for name in track(["(default)", *systems], len(systems) + 1, "role activations", progress):
        if name == "(default)":
            default = acts(default_system, questions)
            continue
        prompts = systems[name]
        parts = [acts(p, questions[i :: len(prompts)]) for i, p in enumerate(prompts) if questions[i :: len(prompts)]]
        out[name] = torch.cat(parts)
    return default, out


def role_vectors(
    roles: Roles, model: Any, *, questions: Sequence[str], default_system: str | None = None,
    max_tokens: int = 64, cache=None, progress: bool = False,
) -> dict[str, PersonaVector]:
    """{role: mean role activation minus mean default-assistant activation} per layer."""
    default, acts = role_activations(
        roles, model, questions=questions, default_system=default_system, max_tokens=max_tokens, cache=cache, progress=progress
    )
    name = model if isinstance(model, str) else getattr(model, "name", None)
    meta = {"model": name, "pooling": "response_mean", "default_system": default_system, "n_questions": len(questions)}
    return _role_vectors(default, acts, meta)


def _role_vectors(default: "torch.Tensor", acts: Mapping[str, "torch.Tensor"], meta: dict) -> dict[str, PersonaVector]:
    base = default.nanmean(0)
    method = "role vector (mean response activation under the role minus under the default assistant)"
    return {role: PersonaVector(a.nanmean(0) - base, {**meta, "name": role, "method": method}) for role, a in acts.items()}


def assistant_axis(default_acts: "torch.Tensor", role_acts: Mapping[str, "torch.Tensor"] | Sequence["torch.Tensor"]) -> PersonaVector:
    """Default-assistant mean minus the mean of the role means, per layer.

    Each argument is per-response activations `[n, layers, hidden]` or an already
    averaged `[layers, hidden]`; every role counts once, whatever its sample count.
    """
    import torch

    def mean(x):
        x = x.data if isinstance(x, PersonaVector) else x
        return x.nanmean(0) if x.ndim == 3 else x

    roles = list(role_acts.values()) if isinstance(role_acts, Mapping) else list(role_acts)
    if not roles:
        raise PersonascopeError("the assistant axis needs at least one role")
    axis = mean(default_acts) - torch.stack([mean(r) for r in roles]).mean(0)
    names = list(role_acts) if isinstance(role_acts, Mapping) else []
    return PersonaVector(axis, {"name": "assistant_axis", "method": "default assistant minus mean of roles", "roles": names})


@dataclass
class PersonaSpace:
    """PCA of vectors at one layer: components are unit rows in activation space."""

    names: list[str]
    layer: int
    components: "np.ndarray"
    explained_variance: list[float]
    explained_variance_ratio: list[float]
    coords: dict[str, list[float]]
    origin: list[float] = field(default_factory=list)
    """Where the zero vector (the default assistant, for role vectors) lands."""

    def to_json(self) -> dict:
        return plain_json({
            "schema_version": 1, "layer": self.layer, "names": self.names, "coords": self.coords,
            "origin": self.origin, "explained_variance": self.explained_variance,
            "explained_variance_ratio": self.explained_variance_ratio,
        })

    def plot(self, title: str = "persona space") -> bytes:
        """PNG bytes: each vector on PC1/PC2, the default assistant as a star.

        Drawn by the report layer through the registry's `persona_space_figure` hook.
        """
        from personascope import registry

        return registry.get("hook", "persona_space_figure")(self, title)


def persona_space(vectors: Mapping[str, PersonaVector], layer: int, *, n_components: int | None = None) -> PersonaSpace:
    """PCA (numpy SVD of the centred rows at `layer`) of named vectors.

    Each component's sign is fixed so that its largest-magnitude coordinate is
    positive: SVD signs are arbitrary, and reruns should draw the same picture.
    """
    import numpy as np

    if len(vectors) < 2:
        raise PersonascopeError("persona space needs at least two vectors")
    names = list(vectors)
    x = np.stack([vectors[n][layer].double().numpy() for n in names])
    mean = x.mean(0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    k = min(n_components or len(names) - 1, len(names) - 1, vt.shape[0])
    vt, s = vt[:k], s[:k]
    coords = (x - mean) @ vt.T
    flip = np.sign(coords[np.abs(coords).argmax(0), np.arange(k)])
    flip[flip == 0] = 1
    vt, coords = vt * flip[:, None], coords * flip
    total = float(((x - mean) ** 2).sum())
    return PersonaSpace(
        names=names, layer=layer, components=vt,
        explained_variance=(s**2 / (len(names) - 1)).tolist(),
        explained_variance_ratio=(s**2 / total).tolist() if total > 0 else [0.0] * k,
        coords={n: coords[i].tolist() for i, n in enumerate(names)},
        origin=((-mean) @ vt.T).tolist(),
    )


def cap_thresholds(projections: Sequence[float], percentiles: tuple[float, float] = (1, 99)) -> tuple[float, float]:
    """(min, max) cap thresholds: percentiles of the default assistant's projections."""
    import numpy as np

    x = np.asarray(list(projections), dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        raise PersonascopeError("cap thresholds need at least one finite projection")
    low, high = np.percentile(x, percentiles)
    return float(low), float(high)


def cap_spec(vector_dir: str | Path, layer: int, low: float | None, high: float | None) -> str:
    """The `--cap VECTOR@LAYER:MIN:MAX` argument (an empty side stays open)."""
    fmt = lambda v: "" if v is None else f"{v:.6g}"  # noqa: E731
    return f"{vector_dir}@{layer}:{fmt(low)}:{fmt(high)}"


def map_persona_space(
    model: Any, out: str | Path, *, roles: Roles | None = None, questions: Sequence[str] | None = None,
    n_questions: int | None = None, layer: int | None = None, default_system: str | None = None,
    max_tokens: int = 64, percentiles: tuple[float, float] = (1, 99), cache=None, progress: bool = False,
) -> dict:
    """Everything `vectors space` writes into `out`: `roles/<name>/` role vectors,
    `assistant_axis/` (chosen_layer = the PCA layer), `pca.json`, `pca.png` and
    `caps.json` (per-layer thresholds from per-token projections of the default
    assistant's responses on the axis, since a cap acts on every token).

    The suggested `spec` caps from below only: it keeps a conversation from
    drifting under the default assistant's range, which is the assistant-axis
    defence. `spec_both` also clamps from above, but a cap acts on every position,
    prompt included, and the first token (the attention sink) projects thousands
    of units out on smollm2: clamping it breaks generation into repetition."""
    import torch

    from personascope.models import get_model
    from personascope.vectors._monitor import token_projections

    cm = get_model(model, cache=cache)
    builtin_roles, builtin_questions = load_roles()
    roles = builtin_roles if roles is None else roles
    questions = list(questions or builtin_questions)[:n_questions]
    default, acts = role_activations(
        roles, cm, questions=questions, default_system=default_system, max_tokens=max_tokens, progress=progress
    )
    n_layers = default.shape[1]
    layer = n_layers // 2 if layer is None else int(layer) % n_layers
    out = Path(out).expanduser()
    meta = {"model": cm.name, "weights_hash": cm.fingerprint().get("weights"), "pooling": "response_mean",
            "default_system": default_system, "n_questions": len(questions),
            "layer_convention": "row i = output of decoder block i (hidden_states[i + 1])"}
    vectors = _role_vectors(default, acts, meta)
    for name, vec in vectors.items():
        vec.save(out / "roles" / name)
    axis = assistant_axis(default, acts)
    # The built-in `assistant` trait judges the same direction (default assistant
    # high), so the axis can be swept and judged like any trait vector.
    axis.meta.update({**meta, "chosen_layer": layer, "trait": "assistant"})
    axis.save(out / "assistant_axis")
    space = persona_space(vectors, layer)
    comps = torch.from_numpy(space.components).float()
    cosines = torch.nn.functional.cosine_similarity(comps, axis[layer][None], dim=1).tolist()
    space_json = {**space.to_json(), "components_cosine_with_assistant_axis": cosines}
    atomic_write(out / "pca.json", json.dumps(space_json, indent=2, sort_keys=True).encode())
    atomic_write(out / "pca.png", space.plot(f"persona space of {cm.name}"))

    # The default assistant's own answers, per token, on the axis at every layer.
    gens = cm.generate(questions, _config(max_tokens), system=default_system)
    tps = token_projections(cm.engine, questions, [g.text for g in gens], {i: axis[i] for i in range(n_layers)}, system=default_system)
    caps = {}
    for i in range(n_layers):
        values = torch.cat([tp.values[i][0, tp.prompt_len :] for tp in tps]).tolist()
        low, high = cap_thresholds(values, percentiles) if values else (None, None)
        caps[str(i)] = {
            "min": low, "max": high, "n_tokens": len(values),
            "spec": cap_spec(out / "assistant_axis", i, low, None), "spec_both": cap_spec(out / "assistant_axis", i, low, high),
        }
    caps_json = {"schema_version": 1, "percentiles": list(percentiles), "pooling": "per token (response)", "layers": caps}
    atomic_write(out / "caps.json", json.dumps(plain_json(caps_json), indent=2, sort_keys=True).encode())
    return {"out": str(out), "layer": layer, "roles": list(vectors), "pca": space_json, "cap": caps[str(layer)]}


def _config(max_tokens: int):
    from personascope.engine import GenerateConfig

    return GenerateConfig(max_new_tokens=max_tokens)
