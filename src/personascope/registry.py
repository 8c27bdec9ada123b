"""One registry for everything a user can add by name: suites, scorers, judges,
step types and report sections.

    from personascope.registry import register, get, names

    @register("scorer", "shouting")
    def shouting(question: str, answer: str) -> float: ...

A name is registered once: a second registration under the same kind and name is
an error unless it asks to `replace`. An entry may be *lazy*, a `"module:attr"`
string imported on first `get`, so listing names never imports what they name
(built-in steps and suites stay unloaded until a study uses them). Plugins
register through the entry-point group `personascope.plugins`: each entry point
names a module (or a callable taking no arguments) that is imported once, on the
first look-up, and registers what it brings. Wherever a name is accepted, so is a
`module:function` reference to user code (`ref("scorer", "mypkg.checks:shouting")`).
"""

from importlib import import_module
from typing import Any

from personascope.errors import PersonascopeError

KINDS = ("suite", "scorer", "judge", "step", "section", "hook")
"""What can be registered. `hook` holds named functions lower layers call without
importing the layer that defines them (the study runner's report builder, the
figures that vector analyses write beside their data)."""

ENTRY_POINT_GROUP = "personascope.plugins"

# Built-in entries, lazy: the module path is all this layer knows of them, so
# importing the registry (or listing names) imports none of them.
_BUILTIN: dict[str, dict[str, str]] = {
    "step": {
        "contrast": "personascope.vectors._step_contrast:ContrastStep",
        "generate": "personascope.vectors._step_generate:GenerateStep",
        "vectors": "personascope.vectors._step_vectors:VectorsStep",
        "eval": "personascope.evals._step:EvalStep",
        "drift": "personascope.conversations._step_drift:DriftStep",
        "selfchat": "personascope.conversations._step_selfchat:SelfChatStep",
        "rtt": "personascope.conversations._step_rtt:RTTStep",
        "therapy": "personascope.conversations._step_therapy:TherapyStep",
    },
    "hook": {
        "build_report": "personascope.report:build_report",
        "sweep_figure": "personascope.report:sweep_png",
        "persona_space_figure": "personascope.report:persona_space_png",
    },
}

# Modules that register a whole family of built-ins with decorators when imported
# (the suites and scorers are many small objects; listing each here would copy them).
_BUILTIN_MODULES: dict[str, list[str]] = {
    "suite": ["personascope.evals.suites"],
    "scorer": ["personascope.judges._scorers"],
    "judge": [],
    "section": [],
}

_entries: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
_loaded_modules: set[str] = set()
_plugins_loaded = False


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise PersonascopeError(f"unknown registry kind {kind!r}: choose from {', '.join(KINDS)}")


def register(kind: str, name: str, obj: Any = None, *, replace: bool = False):
    """Register `obj` (an object or a lazy `"module:attr"` string) as `kind` `name`.

    Without `obj`, returns a decorator. Registering a name twice raises unless
    `replace` (the same object again is not a duplicate: re-imports are harmless)."""
    _check_kind(kind)

    def add(value: Any) -> Any:
        current = _entries[kind].get(name)
        if current is not None and current is not value and not replace and not _same_lazy(current, value):
            where = current if isinstance(current, str) else _qualname(current)
            raise PersonascopeError(
                f"{kind} {name!r} is already registered (by {where}): pick another name, or pass replace=True"
            )
        _entries[kind][name] = value
        return value

    return add if obj is None else add(obj)


def _same_lazy(current: Any, value: Any) -> bool:
    # A lazy entry being filled in by the module it points to is its own registration.
    return isinstance(current, str) and not isinstance(value, str) and current == f"{value.__module__}:{value.__qualname__}"


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', type(obj).__name__)}"


def _load_builtins(kind: str) -> None:
    for name, target in _BUILTIN.get(kind, {}).items():
        _entries[kind].setdefault(name, target)
    for module in _BUILTIN_MODULES.get(kind, []):
        if module not in _loaded_modules:
            _loaded_modules.add(module)
            import_module(module)
    _load_plugins()


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = ep.load()
        except Exception as exc:  # a broken plugin must say which one it is
            raise PersonascopeError(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
        if callable(loaded):  # a module registers on import; a function when called
            loaded()


def resolve_ref(text: str) -> Any:
    """The object a `module:attr` reference names, or a clear error."""
    module_name, sep, attr = text.partition(":")
    if not sep or not module_name or not attr:
        raise PersonascopeError(f"{text!r} is not a module:attr reference (e.g. mypkg.checks:shouting)")
    try:
        obj: Any = import_module(module_name)
    except ImportError as exc:
        raise PersonascopeError(f"cannot import {module_name!r} for {text!r}: {exc} (is it on PYTHONPATH?)") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise PersonascopeError(f"{module_name!r} has no {attr!r} (from {text!r})") from None
    return obj


def is_ref(name: str) -> bool:
    """Whether `name` is a `module:attr` reference rather than a registered name."""
    module_name, sep, attr = name.partition(":")
    return bool(sep and module_name and attr and " " not in name and "/" not in module_name)


def get(kind: str, name: str) -> Any:
    """The object registered as `kind` `name` (lazy entries imported now), or the
    object a `module:attr` reference names."""
    _check_kind(kind)
    _load_builtins(kind)
    if name not in _entries[kind] and is_ref(name):
        return resolve_ref(name)
    try:
        value = _entries[kind][name]
    except KeyError:
        raise PersonascopeError(
            f"unknown {kind} {name!r}: choose from {', '.join(sorted(_entries[kind])) or '(none)'}, "
            "or give a module:function reference"
        ) from None
    if isinstance(value, str):
        value = resolve_ref(value)
        _entries[kind][name] = value
    return value


def find(kind: str, name: str, default: Any = None) -> Any:
    """Like `get`, but `default` for an unknown name."""
    _check_kind(kind)
    _load_builtins(kind)
    return get(kind, name) if name in _entries[kind] or is_ref(name) else default


def names(kind: str) -> list[str]:
    """Every registered name of `kind`, sorted (lazy entries are not imported)."""
    _check_kind(kind)
    _load_builtins(kind)
    return sorted(_entries[kind])


def entries(kind: str) -> dict[str, Any]:
    """Every entry of `kind` by name, lazy ones imported."""
    return {name: get(kind, name) for name in names(kind)}


def unregister(kind: str, name: str) -> None:
    """Remove an entry (tests and plugins that undo themselves)."""
    _check_kind(kind)
    _entries[kind].pop(name, None)

