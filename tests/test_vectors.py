"""The vector value object, its files and the intervention specs."""

import pytest
import torch

from personascope.engine import Ablate, AddVector, Cap
from personascope.errors import PersonascopeError
from personascope.vectors import PersonaVector, parse_intervention, parse_layers, parse_projection


def test_arithmetic_and_cosine():
    a = PersonaVector(torch.ones(3, 4), {"name": "a"})
    b = PersonaVector(torch.arange(12.0).reshape(3, 4), {"name": "b"})
    assert torch.equal((a + b).data, a.data + b.data)
    assert torch.equal((a - b).data, a.data - b.data)
    assert torch.equal((2 * a).data, 2 * a.data) and torch.equal((a * 2).data, 2 * a.data)
    assert torch.equal((-a).data, -a.data)
    assert torch.allclose(a.cosine(a), torch.ones(3))
    assert torch.allclose(a.cosine(-a), -torch.ones(3))
    with pytest.raises(PersonascopeError, match="shapes differ"):
        a + PersonaVector(torch.ones(2, 4))


def test_save_load_roundtrip(tmp_path):
    v = PersonaVector(torch.randn(5, 8), {"name": "x", "model": "m"})
    v.save(tmp_path / "vec")
    back = PersonaVector.load(tmp_path / "vec")
    assert torch.equal(back.data, v.data)
    assert back.meta["name"] == "x" and back.meta["schema_version"] == 2
    assert not list((tmp_path / "vec").glob("*.tmp"))


def test_schema_1_vector_loads_and_reads_as_chosen_in_context(tmp_path):
    """A directory written before `layer_selected_by` existed: its layer was chosen with the prompt in context."""
    import json

    from safetensors.torch import save_file
    from typer.testing import CliRunner

    from personascope.cli import app
    from personascope.vectors._quality import chosen_row, headline_layers, selected_by

    (tmp_path / "old").mkdir()
    save_file({"vectors": torch.randn(3, 4)}, str(tmp_path / "old" / "vectors.safetensors"))
    layers = [{"layer": i, "auroc": a, "cohens_d": d} for i, (a, d) in enumerate([(0.6, 0.3), (0.97, 2.5), (0.9, 1.9)])]
    text = [{"layer": i, "auroc": a, "cohens_d": d} for i, (a, d) in enumerate([(0.55, 0.2), (0.83, 1.1), (0.88, 1.4)])]
    old = {"schema_version": 1, "name": "evil", "model": "smollm2", "pooling": "response_mean", "layers": layers,
           "layers_text_only": text, "chosen_layer": 1, "layer_choice": "max held-out AUROC"}
    (tmp_path / "old" / "meta.json").write_text(json.dumps(old))
    meta = PersonaVector.load(tmp_path / "old").meta
    assert meta["schema_version"] == 1 and selected_by(meta) == "in_context" and headline_layers(meta) == layers
    assert chosen_row(meta) == layers[1] and chosen_row(meta, "text_only") == text[1]
    shown = CliRunner().invoke(app, ["vectors", "show", str(tmp_path / "old")])
    assert shown.exit_code == 0, shown.output
    assert "0.83" in shown.output and "0.97" in shown.output and "system prompt in context" in shown.output
    # Older still: no text-only table at all.
    (tmp_path / "old" / "meta.json").write_text(json.dumps({k: v for k, v in old.items() if k != "layers_text_only"}))
    meta = PersonaVector.load(tmp_path / "old").meta
    assert chosen_row(meta, "text_only") == {} and chosen_row(meta) == layers[1]
    assert CliRunner().invoke(app, ["vectors", "show", str(tmp_path / "old")]).exit_code == 0


def test_bad_vector_files(tmp_path):
    with pytest.raises(PersonascopeError, match="no vector at"):
        PersonaVector.load(tmp_path / "nothing")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "vectors.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(PersonascopeError, match="not a valid vector file"):
        PersonaVector.load(tmp_path / "bad")


def test_parse_layers():
    assert parse_layers("3", 10) == [3]
    assert parse_layers("2-4,7", 10) == [2, 3, 4, 7]
    assert parse_layers("-1", 10) == [9]
    assert parse_layers("all", 3) == [0, 1, 2]
    with pytest.raises(PersonascopeError, match="out of range"):
        parse_layers("10", 10)


@pytest.fixture
def vec_dir(tmp_path):
    PersonaVector(torch.randn(4, 64)).save(tmp_path / "v")
    return str(tmp_path / "v")


def test_parse_interventions(vec_dir):
    steer = parse_intervention("steer", f"{vec_dir}@1,3:2.5", 4, 64)
    assert isinstance(steer, AddVector) and list(steer.layers) == [1, 3] and steer.coef == 2.5
    assert isinstance(parse_intervention("ablate", f"{vec_dir}@all", 4, 64), Ablate)
    cap = parse_intervention("cap", f"{vec_dir}@2:-1:", 4, 64)
    assert isinstance(cap, Cap) and (cap.min, cap.max) == (-1.0, None) and cap.positions == "all"
    cap = parse_intervention("cap", f"{vec_dir}@2:-1:1:response", 4, 64)
    assert (cap.min, cap.max, cap.positions) == (-1.0, 1.0, "response")
    label, v, layer = parse_projection(f"{vec_dir}@-1", 4, 64)
    assert layer == 3 and v.hidden_size == 64


@pytest.mark.parametrize(
    "kind,suffix,message",
    [
        ("steer", "@1", "malformed steer"),
        ("steer", "@1:x", "not a number"),
        ("steer", "1:2", "missing '@'"),
        ("steer", "@x:2", "not integers"),
        ("steer", "@9:2", "out of range"),
        ("cap", "@1::", "give a min, a max"),
        ("cap", "@1:0:1:middle", "positions 'middle' is not one of all, prompt, response"),
        ("cap", "@1:0:1:all:x", "expected 2 ':'-separated"),
    ],
)
def test_malformed_specs(vec_dir, kind, suffix, message):
    spec = suffix if suffix == "1:2" else vec_dir + suffix
    with pytest.raises(PersonascopeError, match=message):
        parse_intervention(kind, spec, 4, 64)


def test_vector_of_the_wrong_width(vec_dir):
    with pytest.raises(PersonascopeError, match="width 64 but the model's hidden size is 32"):
        parse_intervention("steer", f"{vec_dir}@1:1", 4, 32)
