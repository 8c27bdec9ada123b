"""Importing personascope and each public subpackage loads none of torch, transformers
and Inspect: `study validate`, a fully cached rerun and the CLI's argument checks
must not pay their import time (seconds each). Each import runs in a fresh
interpreter, since this test process has long since loaded all three."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "personascope"
HEAVY = ("torch", "transformers", "inspect_ai")
TOP_LEVEL = ["personascope", "personascope.registry", "personascope.errors", "personascope.stats"]
SUBPACKAGES = sorted(
    f"personascope.{p.parent.name}" for p in SRC.glob("*/__init__.py") if not p.parent.name.startswith("_")
)

CHECK = """
import json, sys
import {module}
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def test_every_public_subpackage_is_listed():
    # The list is found from the tree; these are the ones the layering names today.
    for name in ("cli", "conversations", "engine", "evals", "models", "protocol", "study", "vectors"):
        assert f"personascope.{name}" in SUBPACKAGES


@pytest.mark.parametrize("module", TOP_LEVEL + SUBPACKAGES)
def test_import_stays_light(module):
    out = subprocess.run(
        [sys.executable, "-c", CHECK.format(module=module, heavy=HEAVY)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == [], f"`import {module}` loads {', '.join(loaded)}: import it inside the function that needs it"


def test_the_fast_yaml_parser_reads_the_built_in_data_as_the_reference_one_does():
    # Built-in data files (and only those) are read with libyaml where installed.
    yaml = pytest.importorskip("yaml")
    if not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML built without libyaml")
    from personascope._yamlerrors import load_yaml

    files = sorted(SRC.glob("*/data/*.yaml"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert load_yaml(text, f"<built-in {path.name}>") == yaml.safe_load(text), path
    # User files keep the reference parser, which rejects what libyaml lets pass.
    from personascope.errors import PersonascopeError

    with pytest.raises(PersonascopeError, match="mine.yaml:1: not valid YAML"):
        load_yaml("questions: [Hello?]\n", "mine.yaml")
