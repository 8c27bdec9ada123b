"""Unit tests of the checks made before a model loads: layer lists, vector meta
files and models, the embedded model's header shape, read-only and unwritable
caches and run stores."""

import errno
import json
import sqlite3

import numpy as np
import pytest
from safetensors.numpy import save_file
from typer.testing import CliRunner

from personascope.cli import app
from personascope.engine import InterventionItem, check_layer_range
from personascope.engine._vectorfile import check_vector_model, read_meta
from personascope.errors import PersonascopeError
from personascope.store import Cache, RunStore, storage_error

from test_bad_input_specs import no_model_loads, study  # noqa: F401  (a fixture and a helper)


def _vector(path, meta, rows=30, width=576):
    path.mkdir(parents=True)
    save_file({"vectors": np.ones((rows, width), dtype=np.float32)}, str(path / "vectors.safetensors"))
    if meta is not None:
        (path / "meta.json").write_text(json.dumps(meta))
    return path


def test_layer_lists():
    assert InterventionItem.parse("steer", "v@10-12,-1:1").layers == [10, 11, 12, -1]
    assert InterventionItem.parse("steer", "v@-3--1:1").layers == [-3, -2, -1]
    for text in ("v@12,12:1", "v@12-10:1", "v@1.5:1", "v@-2-2:1"):
        with pytest.raises(PersonascopeError, match="write"):
            InterventionItem.parse("steer", text)
    with pytest.raises(PersonascopeError, match="given twice"):
        InterventionItem(kind="steer", vector="v", layers=[3, 3], coef=1.0)
    assert check_layer_range([0, -1], 30) == [0, 29]
    with pytest.raises(PersonascopeError, match="twice"):
        check_layer_range([29, -1], 30)


def test_meta_checks(tmp_path):
    with pytest.raises(PersonascopeError, match="has no meta.json"):
        read_meta(_vector(tmp_path / "none", None) / "vectors.safetensors")
    v = _vector(tmp_path / "v", {"model": "smollm2", "weights_hash": "abc"})
    check_vector_model(v, "smollm2")
    check_vector_model(v, "personascope/smollm2")
    check_vector_model(v, "hf/copy-of-it", weights="abc")  # same weights under another name
    with pytest.raises(PersonascopeError, match="--allow-other-model"):
        check_vector_model(v, "hf/other", weights="def")
    check_vector_model(v, "hf/other", weights="def", allow_other_model=True)
    check_vector_model(_vector(tmp_path / "handmade", {"name": "random"}), "hf/other")  # names no model


def test_persona_vector_load_reads_meta_through_the_same_check(tmp_path):
    from personascope.vectors import PersonaVector

    v = _vector(tmp_path / "v", None)
    with pytest.raises(PersonascopeError, match="has no meta.json"):
        PersonaVector.load(v)
    (v / "meta.json").write_text("{broken")
    with pytest.raises(PersonascopeError, match="not valid JSON"):
        PersonaVector.load(v)


def test_embedded_shape_comes_from_the_gguf_header():
    from personascope.models import gguf_path
    from personascope.models._embedded import gguf_shape

    assert gguf_shape(gguf_path()) == (30, 576)


def test_valid_specs_pass_the_checks_and_reach_the_loader(no_model_loads):  # noqa: F811
    _vector(no_model_loads / "v", {"model": "smollm2"})
    _vector(no_model_loads / "o", {"model": "hf/other"})
    (no_model_loads / "p.txt").write_text("hi\n")
    runner = CliRunner()
    for args in (["--steer", "v@-1,3-5:2"], ["--steer", "o@3:2", "--allow-other-model"]):
        result = runner.invoke(app, ["generate", "-i", "p.txt", *args])
        assert isinstance(result.exception, AssertionError), result.output  # the patched loader


def test_study_validate_passes_good_arms_and_the_override(no_model_loads):  # noqa: F811
    _vector(no_model_loads / "o", {"model": "hf/other"})
    (no_model_loads / "ok.yaml").write_text(study({"steer": ["o@12:2"], "cap": ["o@3:-1:1"]}, allow_other_model=True))
    result = CliRunner().invoke(app, ["study", "validate", "ok.yaml"])
    assert result.exit_code == 0, result.output
    # A vector made by a step is checked for its layers only.
    doc = {"name": "s", "models": ["smollm2"], "steps": [
        {"id": "vec", "type": "vectors", "trait": "evil"},
        {"id": "g", "type": "generate", "prompts": ["hi"], "arms": {"a": {"steer": ["vec@31:2"]}}}]}
    (no_model_loads / "ref.yaml").write_text(json.dumps(doc))
    result = CliRunner().invoke(app, ["study", "validate", "ref.yaml"])
    assert result.exit_code == 2 and "layers 0..29" in result.output, result.output


def test_a_read_only_cache_is_read_and_not_written(tmp_path, monkeypatch, capsys):
    import personascope.store._cache as cache_module

    path = tmp_path / "shared" / "calls.sqlite"
    Cache(path).put_many({"a": b"1"})
    size = path.stat().st_size
    # Running as root, chmod cannot make a file unwritable, so the check is patched.
    monkeypatch.setattr(cache_module, "_writable", lambda p: False)
    cache = Cache(path)
    assert cache.read_only
    assert cache.get_many(["a", "b"]) == {"a": b"1"} and cache.stats() == {"hits": 1, "misses": 1}
    cache.put_many({"b": b"2"})
    cache.put_many({"c": b"3"})
    assert capsys.readouterr().err.count("warning: the cache") == 1
    monkeypatch.undo()
    assert Cache(path).get_many(["b", "c"]) == {} and path.stat().st_size == size


def test_unwritable_places_name_the_path_and_the_fix(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(PersonascopeError, match="--no-cache"):
        Cache(tmp_path / "file" / "calls.sqlite")
    with pytest.raises(PersonascopeError, match="--runs-dir"):
        RunStore(tmp_path / "file" / "store.sqlite", create=True)
    full = storage_error(tmp_path, OSError(errno.ENOSPC, "No space left on device"), "run with --no-cache")
    assert "is full: free some space, or run with --no-cache" in str(full)
    full = storage_error(tmp_path, sqlite3.OperationalError("database or disk is full"), "x")
    assert "is full" in str(full)
    ro = storage_error(tmp_path, sqlite3.OperationalError("attempt to write a readonly database"), "x")
    assert f"chmod u+w {tmp_path}" in str(ro)
