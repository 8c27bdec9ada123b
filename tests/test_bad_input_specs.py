"""Bad interventions, vector files, caches and run paths: each row is one command
line, the files it finds, and the fix its one `error:` line must name. Every case
runs in-process with model loading patched to fail, so a check that only happens
once a model has loaded fails the test."""

import json

import numpy as np
import pytest
from safetensors.numpy import save_file
from typer.testing import CliRunner

from personascope.cli import app

LAYERS, WIDTH = 30, 576  # the embedded smollm2, read from its GGUF header


def vec(rows=LAYERS, width=WIDTH, meta=None, bad=None, key="vectors"):
    """A vector directory's files: `vectors.safetensors` (with a NaN/inf at [1, 2]
    if `bad`) and `meta.json` (`meta`; None leaves it out, a str is written as is)."""
    data = np.ones((rows, width), dtype=np.float32) if width else np.ones(rows, dtype=np.float32)
    if bad is not None:
        data[1, 2] = bad
    files = {"vectors.safetensors": ("tensors", {key: data})}
    if meta is not None:
        files["meta.json"] = meta if isinstance(meta, str) else json.dumps(meta)
    return files


GOOD = vec(meta={"model": "smollm2", "schema_version": 1})
PROMPTS = {"p.txt": "hello\n"}


def study(arm: dict, **header) -> str:
    doc = {"name": "s", "models": ["smollm2"], **header,
           "steps": [{"id": "g", "type": "generate", "prompts": ["hi"], "arms": {"a": arm}}]}
    return json.dumps(doc)  # JSON is YAML


def gen(*args):
    return ["generate", "-i", "p.txt", *args]


CASES = [
    # -- the text form: numbers ---------------------------------------------
    (gen("--steer", "v@12:nan"), {"v": GOOD, **PROMPTS}, "not a finite number"),
    (gen("--steer", "v@12:1e999"), {"v": GOOD, **PROMPTS}, "not a finite number"),
    (gen("--steer", "v@12:-inf"), {"v": GOOD, **PROMPTS}, "not a finite number"),
    (gen("--steer", "v@12:x"), {"v": GOOD, **PROMPTS}, "'x' is not a number"),
    (gen("--cap", "v@8:1:nan"), {"v": GOOD, **PROMPTS}, "not a finite number"),
    (gen("--cap", "v@8:3:-3"), {"v": GOOD, **PROMPTS}, "min 3.0 is above max -3.0"),
    (gen("--cap", "v@8::"), {"v": GOOD, **PROMPTS}, "give a min, a max or both"),
    (gen("--cap", "v@8:1"), {"v": GOOD, **PROMPTS}, "expected 2 ':'-separated"),
    # -- the text form: layers and shape --------------------------------------
    (gen("--steer", "v@14,14:2"), {"v": GOOD, **PROMPTS}, "layer 14 is given twice"),
    (gen("--steer", "v@3,1-4:2"), {"v": GOOD, **PROMPTS}, "layer 3 is given twice"),
    (gen("--steer", "v@20-10:2"), {"v": GOOD, **PROMPTS}, "write 10-20"),
    (gen("--steer", "v@10-5:2"), {"v": GOOD, **PROMPTS}, "write 5-10"),
    (gen("--steer", "v@14.5:2"), {"v": GOOD, **PROMPTS}, "are not integers"),
    (gen("--steer", "v@-1-3:2"), {"v": GOOD, **PROMPTS}, "mixes counting from the end"),
    (gen("--steer", "v@:2"), {"v": GOOD, **PROMPTS}, "are not integers"),
    (gen("--steer", "v12:2"), {"v": GOOD, **PROMPTS}, "missing '@'"),
    (gen("--steer", "v@12"), {"v": GOOD, **PROMPTS}, "expected 1 ':'-separated"),
    (gen("--steer", "v@12:2:sideways"), {"v": GOOD, **PROMPTS}, "positions 'sideways' is not one of"),
    (gen("--ablate", "v@8:2"), {"v": GOOD, **PROMPTS}, "positions '2' is not one of"),
    (gen("--steer", "v@30:2"), {"v": GOOD, **PROMPTS}, "layers 0..29"),
    (gen("--steer", "v@-31:2"), {"v": GOOD, **PROMPTS}, "layers 0..29"),
    (gen("--steer", "v@-1,29:2"), {"v": GOOD, **PROMPTS}, "name one layer twice"),
    # -- vector files -----------------------------------------------------------
    (gen("--steer", "v@12:2"), {"v": vec(width=64, meta={"model": "smollm2"}), **PROMPTS}, "width 64"),
    (gen("--steer", "v@2:2"), {"v": vec(rows=12, meta={"model": "smollm2"}), **PROMPTS}, "12 layer rows"),
    (gen("--steer", "v@12:2"), {"v": vec(meta={"model": "smollm2"}, bad=np.nan), **PROMPTS}, "NaN or infinite"),
    (gen("--ablate", "v@12"), {"v": vec(meta={"model": "smollm2"}, bad=np.inf), **PROMPTS}, "NaN or infinite"),
    (gen("--steer", "v@12:2"), {"v": vec(), **PROMPTS}, "has no meta.json"),
    (gen("--steer", "v@12:2"), {"v": vec(meta="{model: smollm2"), **PROMPTS}, "is not valid JSON"),
    (gen("--steer", "v@12:2"), {"v": vec(meta="[1, 2]"), **PROMPTS}, "is not a JSON object"),
    (gen("--steer", "v@12:2"), {"v": vec(meta={"model": "hf/some/other"}), **PROMPTS}, "--allow-other-model"),
    (gen("--steer", "v@12:2"), {"v": vec(meta={"model": 7}), **PROMPTS}, "is not a model name"),
    (gen("--steer", "v@12:2"), {"v": vec(meta={"model": "smollm2", "schema_version": "1"}), **PROMPTS}, "is not an integer"),
    (gen("--steer", "v@12:2"), {"v": vec(meta={"model": "smollm2", "schema_version": 99}), **PROMPTS}, "upgrade personascope"),
    (gen("--steer", "nowhere@12:2"), PROMPTS, "no vector at nowhere"),
    (gen("--steer", "v@12:2"), {"v": {"vectors.safetensors": "junk", "meta.json": "{}"}, **PROMPTS}, "not a valid vector file"),
    (gen("--steer", "v@12:2"), {"v": vec(meta={"model": "smollm2"}, key="other"), **PROMPTS}, "not a valid vector file"),
    (gen("--steer", "v@12:2"), {"v": vec(width=0, meta={"model": "smollm2"}), **PROMPTS}, "not [n_layers, hidden]"),
    # -- other commands parse their specs first -------------------------------------
    (["chat", "--steer", "v@1:nan"], {"v": GOOD}, "not a finite number"),
    (["eval", "trait", "--steer", "v@20-10:2"], {"v": GOOD}, "write 10-20"),
    (["drift", "run", "--cap", "v@8:3:-3"], {"v": GOOD}, "min 3.0 is above max"),
    # -- study validate rejects what study run would ------------------------------
    (["study", "validate", "s.yaml"], {"v": GOOD, "s.yaml": study({"steer": ["v@14.5:2"]})}, "are not integers"),
    (["study", "validate", "s.yaml"], {"v": GOOD, "s.yaml": study({"steer": ["v@30:2"]})}, "layers 0..29"),
    (["study", "validate", "s.yaml"], {"v": GOOD, "s.yaml": study({"steer": ["v@12:nan"]})}, "not a finite number"),
    (["study", "validate", "s.yaml"], {"v": GOOD, "s.yaml": study({"cap": ["v@12:3:-3"]})}, "above max"),
    (["study", "validate", "s.yaml"], {"v": GOOD, "s.yaml": study({"steer": ["v@14,14:1"]})}, "given twice"),
    (["study", "validate", "s.yaml"], {"v": vec(width=64, meta={"model": "smollm2"}),
                                       "s.yaml": study({"steer": ["v@12:2"]})}, "width 64"),
    (["study", "validate", "s.yaml"], {"v": vec(meta={"model": "hf/x"}), "s.yaml": study({"steer": ["v@12:2"]})},
     "allow_other_model: true"),
    (["study", "validate", "s.yaml"], {"v": vec(meta={"model": "smollm2"}, bad=np.nan),
                                       "s.yaml": study({"ablate": ["v@3"]})}, "NaN or infinite"),
    # -- caches and run folders -------------------------------------------------------
    (["study", "run", "s.yaml", "--runs-dir", "afile/runs"], {"afile": "x", "s.yaml": study({})}, "--runs-dir"),
    (["study", "run", "s.yaml"], {"HOME_IS_A_FILE": "x", "s.yaml": study({})}, "--no-cache"),
]


def _write(root, files):
    for name, content in files.items():
        path = root / name
        if isinstance(content, dict):
            path.mkdir(parents=True, exist_ok=True)
            _write(path, content)
        elif isinstance(content, tuple):
            save_file(content[1], str(path))
        else:
            path.write_text(content)


@pytest.fixture
def no_model_loads(monkeypatch, tmp_path):
    """Any model load or conversion fails the test; the embedded model's shape still
    comes from its GGUF header."""
    import personascope.models as models
    from personascope.models import _checkpoint, _embedded

    def loaded(*args, **kwargs):
        raise AssertionError("a model was loaded before the input was checked")

    monkeypatch.setattr(models, "load_engine", loaded)
    monkeypatch.setattr(_embedded, "_convert", loaded)
    monkeypatch.setattr(_checkpoint, "load_weights", loaded)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERSONASCOPE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PERSONASCOPE_RUNS", str(tmp_path / "runs"))
    return tmp_path


@pytest.mark.parametrize("args, files, fix", CASES, ids=[f"{i:02d}-{c[2][:24]}" for i, c in enumerate(CASES)])
def test_bad_input_names_the_fix_before_any_model_loads(no_model_loads, monkeypatch, args, files, fix):
    files = dict(files)
    if files.pop("HOME_IS_A_FILE", None) is not None:
        (no_model_loads / "homefile").write_text("x")
        monkeypatch.setenv("PERSONASCOPE_HOME", str(no_model_loads / "homefile"))
    _write(no_model_loads, files)
    result = CliRunner().invoke(app, args)
    stderr = result.stderr if result.stderr_bytes is not None else result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, (result.exit_code, result.output)
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    assert fix in stderr, stderr
    assert "Traceback" not in result.output


def test_the_table_is_large_enough():
    assert len(CASES) >= 40
