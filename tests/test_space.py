"""Persona space (role vectors, PCA, assistant axis, cap thresholds) and vector comparison."""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from personascope.cli import app
from personascope.engine import Cap
from personascope.errors import PersonascopeError
from personascope.store import Cache
from personascope.models import Model
from personascope.vectors import (
    PersonaVector,
    assistant_axis,
    cap_spec,
    cap_thresholds,
    compare_vectors,
    load_roles,
    persona_space,
    role_activations,
    role_vectors,
    token_projections,
)

runner = CliRunner()


def test_pca_recovers_a_planted_direction():
    gen = torch.Generator().manual_seed(0)
    d = torch.randn(64, generator=gen)
    d /= d.norm()
    amounts = torch.linspace(-3, 3, 10)
    vectors = {
        f"r{i}": PersonaVector(torch.stack([torch.randn(64, generator=gen), a * d + 0.01 * torch.randn(64, generator=gen)]))
        for i, a in enumerate(amounts)
    }
    space = persona_space(vectors, layer=1)
    pc1 = torch.from_numpy(space.components[0]).float()
    assert abs(float(pc1 @ d)) > 0.999
    assert space.explained_variance_ratio[0] > 0.99
    assert np.isclose(sum(space.explained_variance_ratio), 1.0)
    pc1_coords = [space.coords[f"r{i}"][0] for i in range(10)]
    assert abs(np.corrcoef(pc1_coords, amounts.numpy())[0, 1]) > 0.999
    # Sign convention: each component's largest-magnitude coordinate is positive.
    coords = np.array(list(space.coords.values()))
    assert (coords[np.abs(coords).argmax(0), range(coords.shape[1])] > 0).all()
    # The zero vector (the default assistant for role vectors) lands at -mean.
    mean = np.stack([v[1].double().numpy() for v in vectors.values()]).mean(0)
    assert np.allclose(space.origin, -mean @ space.components.T)
    assert space.plot()[:8] == b"\x89PNG\r\n\x1a\n"


def test_assistant_axis_is_default_minus_mean_of_role_means():
    torch.manual_seed(0)
    default = torch.randn(5, 3, 8)
    roles = {"a": torch.randn(2, 3, 8) + 1, "b": torch.randn(7, 3, 8) - 2}
    axis = assistant_axis(default, roles)
    expected = default.mean(0) - (roles["a"].mean(0) + roles["b"].mean(0)) / 2
    assert torch.allclose(axis.data, expected, atol=1e-6)
    assert axis.meta["roles"] == ["a", "b"]
    # Pre-averaged inputs give the same axis; so does minus the mean role vector.
    assert torch.allclose(assistant_axis(default.mean(0), [r.mean(0) for r in roles.values()]).data, expected, atol=1e-6)
    role_vecs = [r.mean(0) - default.mean(0) for r in roles.values()]
    assert torch.allclose(axis.data, -torch.stack(role_vecs).mean(0), atol=1e-6)
    with pytest.raises(PersonascopeError, match="at least one role"):
        assistant_axis(default, {})


def test_cap_thresholds_are_percentiles():
    values = list(np.random.default_rng(0).normal(size=1000)) + [float("nan")]
    low, high = cap_thresholds(values, (5, 95))
    finite = np.asarray(values[:-1])
    assert (low, high) == pytest.approx(tuple(np.percentile(finite, [5, 95])))
    assert cap_thresholds(range(101)) == (1.0, 99.0)
    assert cap_spec("out/assistant_axis", 15, -1.25, 3.5) == "out/assistant_axis@15:-1.25:3.5"
    assert cap_spec("v", 2, None, 3.0) == "v@2::3"
    with pytest.raises(PersonascopeError):
        cap_thresholds([])


def test_capping_at_the_thresholds_bounds_the_projection(tiny_llama):
    torch.manual_seed(1)
    direction = torch.randn(64)
    prompts = ["hello there", "what is this?", "tell me a story"]
    responses = ["a reply of some length", "another one, longer than that", "ok"]
    layer = 2
    before = token_projections(tiny_llama, prompts, responses, {layer: direction})
    values = torch.cat([tp.values[layer][0, tp.prompt_len :] for tp in before]).tolist()
    low, high = cap_thresholds(values, (10, 90))
    assert min(values) < low and max(values) > high  # so the cap has work to do
    with tiny_llama.intervene(Cap(direction, [layer], min=low, max=high)):
        after = token_projections(tiny_llama, prompts, responses, {layer: direction})
    capped = torch.cat([tp.values[layer][0] for tp in after])
    assert capped.min() >= low - 1e-4 and capped.max() <= high + 1e-4
    # Tokens already inside the band keep their projection.
    inside = [(b, a) for b, a in zip(values, torch.cat([tp.values[layer][0, tp.prompt_len :] for tp in after]).tolist()) if low < b < high]
    assert inside and all(abs(b - a) < 1e-4 for b, a in inside)


@pytest.fixture
def tiny_model(tiny_dir, tmp_path):
    return Model(f"hf/{tiny_dir}", Cache(tmp_path / "cache.sqlite"))


def test_role_vectors_are_role_minus_default_means(tiny_model):
    roles = {"pirate": "You are a pirate.", "poet": "You are a poet."}
    questions = ["hi", "how are you?", "what now?"]
    vectors = role_vectors(roles, tiny_model, questions=questions, max_tokens=4)
    default, acts = role_activations(roles, tiny_model, questions=questions, max_tokens=4)
    assert set(vectors) == {"pirate", "poet"} and default.shape == (3, 4, 64)
    for name, vec in vectors.items():
        assert vec.data.shape == (4, 64)
        assert torch.allclose(vec.data, acts[name].nanmean(0) - default.nanmean(0), atol=1e-6)


def test_trait_specs_as_roles_take_turns_with_their_prompts(tiny_model):
    from personascope.traits import TraitSpec

    spec = TraitSpec(
        name="jolly", description="cheerful",
        instructions=[{"pos": "Be jolly.", "neg": "Be glum."}, {"pos": "Be merry.", "neg": "Be dour."}],
        questions={"extract": ["a"], "eval": ["b"]}, judge={"rubric": "{question} {answer}"},
    )
    _, acts = role_activations([spec], tiny_model, questions=["q1", "q2", "q3"], max_tokens=3)
    assert acts["jolly"].shape == (3, 4, 64)


def test_load_roles(tmp_path):
    roles, questions = load_roles()
    assert len(roles) == 12 and "pirate" in roles and len(questions) >= 20
    (tmp_path / "r.yaml").write_text("a: You are A.\nb: You are B.\n")
    assert load_roles(tmp_path / "r.yaml") == ({"a": "You are A.", "b": "You are B."}, questions)
    (tmp_path / "bad.yaml").write_text("roles: [1, 2]\n")
    with pytest.raises(PersonascopeError, match="must map each role name"):
        load_roles(tmp_path / "bad.yaml")
    with pytest.raises(PersonascopeError, match="no such roles file"):
        load_roles(tmp_path / "missing.yaml")


def test_space_cli_writes_everything(tiny_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONASCOPE_HOME", str(tmp_path / "home"))
    roles = tmp_path / "roles.json"
    roles.write_text(json.dumps({"roles": {"a": "You are A.", "b": "You are B.", "c": "You are C."}, "questions": ["x", "y"]}))
    out = tmp_path / "space"
    result = runner.invoke(app, ["vectors", "space", "-m", f"hf/{tiny_dir}", "--roles", str(roles), "--out", str(out), "--max-tokens", "4"])
    assert result.exit_code == 0, result.output
    assert "suggested cap" in result.output
    pca = json.loads((out / "pca.json").read_text())
    assert pca["layer"] == 2 and set(pca["coords"]) == {"a", "b", "c"}
    assert all(-1 <= c <= 1 for c in pca["components_cosine_with_assistant_axis"])
    caps = json.loads((out / "caps.json").read_text())
    assert set(caps["layers"]) == {"0", "1", "2", "3"}
    cap = caps["layers"]["2"]
    assert cap["min"] <= cap["max"] and cap["spec"] == cap_spec(out / "assistant_axis", 2, cap["min"], None)
    assert cap["spec_both"] == cap_spec(out / "assistant_axis", 2, cap["min"], cap["max"])
    axis = PersonaVector.load(out / "assistant_axis")
    assert axis.meta["chosen_layer"] == 2 and axis.data.shape == (4, 64)
    assert all((out / "roles" / r / "vectors.safetensors").is_file() for r in "abc")
    assert (out / "pca.png").read_bytes()[:4] == b"\x89PNG"


@pytest.fixture
def three_vectors(tmp_path):
    rows = {"a": torch.tensor([1.0, 0.0, 0.0]), "b": torch.tensor([1.0, 1.0, 0.0]), "c": torch.tensor([-1.0, 0.0, 2.0])}
    dirs = []
    for k, (name, row) in enumerate(rows.items()):
        data = torch.zeros(3, 3)
        data[k] = row  # each vector's chosen layer holds its row
        data[0] = row if k else data[0]
        PersonaVector(data, {"name": name, "chosen_layer": k}).save(tmp_path / name)
        dirs.append(tmp_path / name)
    return dirs, rows


def test_compare_cosine_matrix(three_vectors):
    dirs, rows = three_vectors
    names, matrix = compare_vectors(dirs)
    assert names == ["a", "b", "c"]
    assert np.allclose(matrix, matrix.T) and np.allclose(np.diag(matrix), 1.0)
    unit = {k: v / v.norm() for k, v in rows.items()}
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            assert matrix[i, j] == pytest.approx(float(unit[a] @ unit[b]), abs=1e-6)
    # At one given layer every vector is read at that row.
    names, at0 = compare_vectors(dirs, layer=0)
    assert np.allclose(at0, matrix)
    with pytest.raises(PersonascopeError, match="is zero at layer"):
        compare_vectors(dirs, layer=1)


def test_compare_cli(three_vectors, tmp_path):
    dirs, _ = three_vectors
    result = runner.invoke(app, ["vectors", "compare", *map(str, dirs), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["names"] == ["a", "b", "c"] and data["layers"] == [0, 1, 2]
    assert data["cosine"][0][1] == pytest.approx(2**-0.5, abs=1e-6)
    table = runner.invoke(app, ["vectors", "compare", *map(str, dirs)])
    assert table.exit_code == 0 and "b@1" in table.stdout
    PersonaVector(torch.ones(3, 3)).save(tmp_path / "nochoice")
    bad = runner.invoke(app, ["vectors", "compare", str(dirs[0]), str(tmp_path / "nochoice")])
    assert bad.exit_code == 2 and "no chosen_layer" in bad.output
