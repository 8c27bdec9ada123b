"""Validation errors for YAML (and JSON) files as `file:line: field.path: message (fix: ...)`.

Study configs and trait specs report every problem at once, each pointing at the
line a user has to edit; the line comes from the YAML node tree, not from pydantic.
"""

import yaml
from pydantic import ValidationError

from personascope.errors import PersonascopeError

FIXES = {
    "missing": "add this field",
    "extra_forbidden": "remove it or check its spelling",
    "int_parsing": "write a whole number",
    "int_type": "write a whole number",
    "float_parsing": "write a number",
    "float_type": "write a number",
    "bool_parsing": "write true or false",
    "string_type": "write text (quote it if YAML reads it as something else)",
    "string_too_short": "write some text",
    "list_type": "write a list ([a, b] or one '- item' per line)",
    "dict_type": "write a mapping (key: value lines)",
    "model_type": "write a mapping (key: value lines)",
    "too_short": "add at least one item",
    "string_pattern_mismatch": "use letters, digits, '.', '-' and '_' only",
}
"""The fix suggested for each pydantic error type (callers may override some)."""


class FixableError(ValueError):
    """A validator's error that knows its fix (pydantic keeps it in the error's context)."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


class YamlLines:
    """Line numbers of YAML nodes by their path of keys and indices."""

    def __init__(self, text: str) -> None:
        self.text, self._root, self._composed = text, None, False

    @property
    def root(self):
        # Composed on the first error only: a valid file never needs its lines,
        # and the node tree comes from the pure-Python parser (slow on big files).
        if not self._composed:
            self._composed = True
            try:
                self._root = yaml.compose(self.text)
            except yaml.YAMLError:
                self._root = None
        return self._root

    def line(self, loc: tuple) -> int | None:
        node, line = self.root, None
        for part in loc:
            if node is None:
                break
            line = node.start_mark.line + 1
            if isinstance(node, yaml.MappingNode):
                match = [(k, v) for k, v in node.value if k.value == part]
                node = match[0][1] if match else None
                if match:
                    line = match[0][0].start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
            else:
                node = None
        return line if line is not None else (node.start_mark.line + 1 if node is not None else None)


def loc_text(loc: tuple) -> str:
    """`("steps", 0, "id")` as `steps[0].id`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


class YamlErrors:
    """Collects problems in one file, then raises them together as one PersonascopeError.

    `what` names the kind of file in the message head; `docs` is the page a fix
    points to when no specific fix is known.
    """

    def __init__(self, file: str, text: str, *, what: str, docs: str, fixes: dict[str, str] | None = None) -> None:
        self.file, self.lines, self.items = file, YamlLines(text), []
        self.what, self.docs = what, docs
        self.fixes = {**FIXES, **(fixes or {})}

    def add(self, loc: tuple, message: str, fix: str) -> None:
        line = self.lines.line(loc)
        where = f"{self.file}:{line}" if line else self.file
        self.items.append(f"{where}: {loc_text(loc)}: {message} (fix: {fix})")

    def add_pydantic(self, exc: ValidationError, prefix: tuple = (), fields: list[str] | None = None) -> None:
        for err in exc.errors():
            # Errors raised by a model validator sit at the model's own location.
            loc = prefix + tuple(p for p in err["loc"] if p != "__root__")
            cause = (err.get("ctx") or {}).get("error")
            fix = getattr(cause, "fix", None) or self.fixes.get(err["type"], f"see {self.docs}")
            if err["type"] == "extra_forbidden" and fields and len(loc) == len(prefix) + 1:
                fix = f"remove it or use one of: {', '.join(fields)}"
            given = "" if err["type"] in ("missing", "extra_forbidden", "value_error") else f", got {_short(err.get('input'))}"
            message = err["msg"].removeprefix("Value error, ")
            self.add(loc, message + given, fix)

    def raise_if_any(self) -> None:
        if self.items:
            n = len(self.items)
            if n == 1:  # one problem, one line: the `error:` line itself names it
                raise PersonascopeError(f"invalid {self.what}: {self.items[0]}")
            raise PersonascopeError(f"{n} problems in {self.what}:\n  " + "\n  ".join(self.items))


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


BUILTIN_PREFIX = "<built-in "
"""How the names of the package's own data files begin (`<built-in families.yaml>`)."""


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


def _no_duplicates(loader, node, deep=False):
    # PyYAML keeps the last of two equal keys; a second `seed:` that silently wins
    # is a typo nobody sees, so a mapping with a key twice is an error.
    # Runs before merge keys (`<<`) are flattened, so overriding a merged key is fine.
    seen: dict = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key: the constructor reports it
            continue
        if first is not None:
            raise _DuplicateKey(None, None, f"duplicate key {key!r} (first on line {first})", key_node.start_mark)
        seen[key] = key_node.start_mark.line + 1
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects a mapping with the same key twice."""

    construct_mapping = _no_duplicates


_Fast = getattr(yaml, "CSafeLoader", None)
if _Fast is not None:
    class _FastStrictLoader(_Fast):
        construct_mapping = _no_duplicates
else:  # pragma: no cover (PyYAML built without libyaml)
    _FastStrictLoader = None


def read_text(path, what: str) -> str:
    """A user file's text, or a PersonascopeError when it is not UTF-8 text."""
    from pathlib import Path

    data = Path(path).read_bytes()
    if b"\x00" in data[:8192]:
        raise PersonascopeError(f"{path}: a binary file, not a {what} (fix: give the UTF-8 text file)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PersonascopeError(
            f"{path}: not UTF-8 text (byte {exc.start}) (fix: save the {what} as UTF-8)"
        ) from None


def load_yaml(text: str, file: str) -> object:
    """`yaml.safe_load(text)` that rejects duplicate keys, or a PersonascopeError naming `file:line` and a fix."""
    # libyaml reads the built-in data files (named `<built-in ...>`) some 20x
    # faster, and validation reads them all. User files always go through the
    # pure-Python parser: the two disagree on some edge cases (libyaml accepts
    # `[Hello?]`), and a file must not be valid on one machine and not another.
    fast = _FastStrictLoader
    loader = fast if fast is not None and file.startswith(BUILTIN_PREFIX) else StrictLoader
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 (a safe loader)
    except _DuplicateKey as exc:
        mark = exc.problem_mark
        raise PersonascopeError(f"{file}:{mark.line + 1}: {exc.problem} (fix: keep one of them)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark else file
        problem = getattr(exc, "problem", None) or str(exc)
        raise PersonascopeError(f"{where}: not valid YAML ({problem}) (fix: check indentation and quotes)") from None


def validate(cls, raw: object, text: str, file: str, *, what: str, docs: str):
    """`cls.model_validate(raw)`, or every problem at once as `file:line: field: ...`."""
    from pydantic import ValidationError

    try:
        return cls.model_validate(raw)
    except ValidationError as exc:
        errors = YamlErrors(file, text, what=what, docs=docs)
        errors.add_pydantic(exc, fields=list(cls.model_fields))
        errors.raise_if_any()
        raise AssertionError("unreachable") from None
