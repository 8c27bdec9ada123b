"""One registry for everything a user can add by name: suites, scorers, judges,
step types and report sections.

    from personascope.registry import register, get, names

    @register("scorer", "shouting")
    def shouting(question: str, answer: str) -> float: ...

Each kind has its own decorator that calls `register` (`@suite`, `@scorer`,
`@step_type`, `@section`); they share one policy. A name is registered once: a
second registration under the same kind and name is an error unless it asks to
`replace` (re-running the module that defined an entry, as `importlib.reload`
does, is not a duplicate). The built-ins of a kind are loaded before anything is
registered under it, so a clash with a built-in shows where the new entry is
defined, and `replace=True` wins whatever the import order.

An entry may be *lazy*, a `"module:attr"` string imported on first `get`, so
listing names never imports what they name (built-in steps stay unloaded until a
study uses them). Plugins register through the entry-point group
`personascope.plugins`: each entry point names a module (or a callable taking no
arguments) that is imported once, on the first look-up, and registers what it
brings. Wherever a name is accepted, so is a `module:function` reference to user
code (`get("scorer", "mypkg.checks:shouting")`).
"""

from importlib import import_module
from typing import Any

from personascope.errors import PersonascopeError

KINDS = ("suite", "scorer", "judge", "step", "section", "hook")
"""What can be registered. `judge` holds the judge classes by kind (`rubric`: a
0-100 number; `choice`: one of labelled options; `label`: a word the judge
answers), each built as
`cls(model, template, ..., name=..., cache=...)`. `hook` holds named functions
lower layers call without importing the layer that defines them (the study
runner's report builder, the figures that vector analyses write beside their
data)."""

_LABELS = {"suite": "eval suite", "step": "step type", "section": "report section"}
"""How errors name an entry of a kind (the kind itself where not listed)."""

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
        "train": "personascope.train._step:TrainStep",
    },
    "suite": {
        "trait": "personascope.evals.suites.trait:TraitSuite",
        "mwe": "personascope.evals.suites.mwe:MweSuite",
        "self-identity": "personascope.evals.suites.identity:IdentitySuite",
        "distress": "personascope.evals.suites.distress:DistressSuite",
        "misalignment": "personascope.evals.suites.misalignment:MisalignmentSuite",
        "psychometrics": "personascope.evals.suites.psychometrics:PsychometricsSuite",
    },
    "judge": {
        "rubric": "personascope.judges._rubric:RubricJudge",
        "choice": "personascope.judges._choice:ChoiceJudge",
        "label": "personascope.judges._label:LabelJudge",
    },
    "hook": {
        "build_report": "personascope.report:build_report",
        "sweep_figure": "personascope.report:sweep_png",
        "persona_space_figure": "personascope.report:persona_space_png",
        "monitor_figure": "personascope.report:monitor_png",
    },
}

# Modules that register a family of built-ins with decorators when imported: the
# scorers are small functions in one light module, and the report sections are
# drawn together (listing each here would copy them).
_BUILTIN_MODULES: dict[str, list[str]] = {
    "scorer": ["personascope.judges._scorers", "personascope.judges._toy"],
    "section": ["personascope.report._sections"],
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
    `replace` (the same object again, or one defined at the same `module:qualname`
    by a re-run of its module, is not a duplicate)."""
    _check_kind(kind)
    if not isinstance(name, str) or not name:
        raise PersonascopeError(f"a {_label(kind)} needs a non-empty name, not {name!r}")

    def add(value: Any) -> Any:
        _load_builtins(kind, plugins=False)
        current = _entries[kind].get(name)
        if current is not None and not replace and not _same_entry(current, value):
            where = current if isinstance(current, str) else _qualname(current)
            raise PersonascopeError(
                f"{_label(kind)} {name!r} is already registered (by {where}): pick another name, or pass replace=True"
            )
        _entries[kind][name] = value
        return value

    return add if obj is None else add(obj)


def _label(kind: str) -> str:
    return _LABELS.get(kind, kind)


def _same_entry(current: Any, value: Any) -> bool:
    if current is value:
        return True
    # A lazy entry filled in by the module it points to, or a module run again
    # (reload, a notebook cell): the same definition, not a second one.
    here = value if isinstance(value, str) else _qualname(value)
    there = current if isinstance(current, str) else _qualname(current)
    return here == there and "?" not in here and "<locals>" not in here


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', '?')}"


def _load_builtins(kind: str, *, plugins: bool = True) -> None:
    for name, target in _BUILTIN.get(kind, {}).items():
        _entries[kind].setdefault(name, target)
    for module in _BUILTIN_MODULES.get(kind, []):
        if module not in _loaded_modules:
            # Marked first: the module's own decorators call back into `register`.
            _loaded_modules.add(module)
            try:
                import_module(module)
            except BaseException:
                _loaded_modules.discard(module)  # let the next look-up show the error again
                raise
    if plugins:
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
    except Exception as exc:  # user code: say whose import broke, not only how
        raise PersonascopeError(f"importing {module_name!r} for {text!r} failed: {type(exc).__name__}: {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise PersonascopeError(f"{module_name!r} has no {attr!r} (from {text!r})") from None
    return obj


def is_ref(name: str) -> bool:
    """Whether `name` is a `module:attr` reference rather than a registered name."""
    if not isinstance(name, str):
        return False
    module_name, sep, attr = name.partition(":")
    dotted = [*module_name.split("."), *attr.split(".")]
    return bool(sep) and all(part.isidentifier() for part in dotted)


def get(kind: str, name: str) -> Any:
    """The object registered as `kind` `name` (lazy entries imported now), or the
    object a `module:attr` reference names."""
    _check_kind(kind)
    if not isinstance(name, str):
        raise PersonascopeError(f"a {_label(kind)} is named by a string, not {type(name).__name__} {name!r}")
    _load_builtins(kind)
    if name not in _entries[kind] and is_ref(name):
        return resolve_ref(name)
    try:
        value = _entries[kind][name]
    except KeyError:
        raise PersonascopeError(
            f"unknown {_label(kind)} {name!r}: choose from {', '.join(sorted(_entries[kind])) or '(none)'}, "
            "or give a module:attr reference to your own"
        ) from None
    if isinstance(value, str):
        value = resolve_ref(value)
        _entries[kind][name] = value
    return value


def find(kind: str, name: str, default: Any = None) -> Any:
    """Like `get`, but `default` for an unknown name."""
    _check_kind(kind)
    _load_builtins(kind)
    return get(kind, name) if (isinstance(name, str) and name in _entries[kind]) or is_ref(name) else default


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



def _reset_plugins() -> None:
    """Look the entry points up again on the next look-up (tests add plugins to
    `sys.path` after the first one)."""
    global _plugins_loaded
    _plugins_loaded = False
