"""One-way layering: a lower layer never imports a higher one (docs/architecture.md).

Every module under src/personascope is parsed with `ast`; every import counts,
including those inside functions (a lazy import is still a dependency), except
those under `if TYPE_CHECKING:`. The registry's lazy `"module:attr"` strings are
data, not imports, and are not seen here.
"""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "personascope"

LAYERS: dict[str, int] = {
    # 0: plain persistence and small utilities; the package root only re-exports errors.
    "personascope": 0, "store": 0, "errors": 0, "stats": 0, "registry": 0,
    "_files": 0, "_paths": 0, "_progress": 0, "_yamlerrors": 0, "_runsdir": 0,
    "engine": 1,
    "models": 2,
    "protocol": 3,
    "traits": 4, "judges": 4,
    "vectors": 5,
    "evals": 6, "conversations": 6,
    "data": 7, "train": 7,
    "catalogue": 8, "space": 8,
    "study": 9,
    "runs": 10, "report": 10,
    "cli": 11, "__main__": 11, "inspect_provider": 11, "demo": 11, "testing": 11,
}
NO_STUDY = ("evals", "conversations")
"""Protocols are defined once, below the study runner: they never call back up into it."""


def unit_of(path: Path) -> str:
    """The subpackage or top-level module a source file belongs to."""
    parts = path.relative_to(SRC).with_suffix("").parts
    if parts == ("__init__",):
        return "personascope"
    return parts[0]


def module_name(path: Path, root: Path = SRC) -> str:
    parts = ("personascope", *path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _target_unit(dotted: str) -> str | None:
    """`personascope.a.b` -> `a` (or the root); None outside the package."""
    parts = dotted.split(".")
    if parts[0] != "personascope":
        return None
    if len(parts) == 1:
        return "personascope"
    return parts[1]


def imports_of(path: Path, root: Path = SRC) -> list[tuple[int, str]]:
    """(line, unit imported) for each personascope import in a file, TYPE_CHECKING blocks aside."""
    tree = ast.parse(path.read_text(), str(path))
    here = module_name(path, root)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                unit = _target_unit(alias.name)
                if unit:
                    found.append((node.lineno, unit))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                dotted = ".".join([*base, *([node.module] if node.module else [])])
            else:
                dotted = node.module or ""
            if dotted == "personascope":
                # `from personascope import x`: x is a subpackage, a top-level module or a root attribute.
                for alias in node.names:
                    sub = alias.name if (root / alias.name).is_dir() or (root / f"{alias.name}.py").is_file() else None
                    found.append((node.lineno, sub or "personascope"))
            else:
                unit = _target_unit(dotted)
                if unit:
                    found.append((node.lineno, unit))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def all_edges() -> list[tuple[str, int, str, str]]:
    """(file, line, from unit, to unit) for every cross-unit import in the package."""
    edges = []
    for path in sorted(SRC.rglob("*.py")):
        src = unit_of(path)
        for line, dst in imports_of(path):
            if dst != src:
                edges.append((str(path.relative_to(SRC.parents[1])), line, src, dst))
    return edges


def test_every_unit_has_a_layer():
    units = {unit_of(p) for p in SRC.rglob("*.py")}
    units |= {dst for *_, dst in all_edges()}
    missing = sorted(u for u in units if u not in LAYERS)
    assert not missing, f"give these a layer in tests/test_layering.py and DESIGN.md: {missing}"


def test_lower_layers_never_import_higher_ones():
    bad = [
        f"{file}:{line}: {src} (layer {LAYERS[src]}) imports {dst} (layer {LAYERS[dst]})"
        for file, line, src, dst in all_edges()
        if src in LAYERS and dst in LAYERS and LAYERS[dst] > LAYERS[src]
    ]
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_no_cycles_within_a_layer():
    edges = [(f, n, s, d) for f, n, s, d in all_edges() if s in LAYERS and d in LAYERS and LAYERS[s] == LAYERS[d]]
    pairs = {(s, d) for _, _, s, d in edges}
    # The root package and the other layer-0 utilities import each other harmlessly
    # (the root only re-exports errors); a cycle between real subpackages is not.
    bad = [
        f"{file}:{line}: {src} imports {dst}, which imports {src} (both layer {LAYERS[src]})"
        for file, line, src, dst in edges
        if (dst, src) in pairs and "personascope" not in (src, dst)
    ]
    assert not bad, "cycles:\n" + "\n".join(bad)


def test_protocols_never_import_the_study_runner():
    bad = [f"{file}:{line}: {src} imports study" for file, line, src, dst in all_edges() if src in NO_STUDY and dst == "study"]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(
    "code, expected",
    [
        ("import personascope.report._figures", ["report"]),
        ("from personascope.engine import Engine", ["engine"]),
        ("from personascope import __version__, stats", ["personascope", "stats"]),
        ("from .._figures import x", ["vectors"]),
        ("def f():\n    from personascope.study import run_step", ["study"]),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from personascope.cli import app", []),
        ("x = 'personascope.cli._vectors:app'", []),
    ],
)
def test_the_import_scanner(tmp_path, code, expected):
    # The file sits at personascope/vectors/sub/m.py, so relative imports resolve there.
    root = tmp_path / "personascope"
    (root / "vectors" / "sub").mkdir(parents=True)
    (root / "engine").mkdir()
    (root / "stats.py").write_text("")
    path = root / "vectors" / "sub" / "m.py"
    path.write_text(code)
    assert [unit for _, unit in imports_of(path, root)] == expected
