"""Layer x coefficient sweeps on a tiny model with stand-in judges."""

import csv
import json
import math
import sys
import types

import pytest
import torch
from typer.testing import CliRunner

from personascope.cli import app
from personascope.store import Cache
from personascope.models import Model
from personascope.traits import TraitSpec
from personascope.vectors import PersonaVector, choose_best, sweep_vector

runner = CliRunner()

SPEC = TraitSpec(
    name="loud", description="Shouts.", instructions=[{"pos": "Shout.", "neg": "Whisper."}],
    questions={"extract": ["e1"], "eval": ["what is up?", "how are you?", "tell me more", "unused"]},
    judge={"rubric": "Q: {question} A: {answer} 0-100?"}, scorers=["length"],
)


class Judge:
    """A stand-in judge: a deterministic number per answer, and a log of what it saw."""

    def __init__(self, fn):
        self.fn, self.seen = fn, []

    def score(self, questions, answers, progress=None):
        self.seen += list(zip(questions, answers))
        return [types.SimpleNamespace(score=self.fn(a), reason="", refusal=False) for a in answers]


@pytest.fixture
def setup(tiny_dir, tmp_path):
    torch.manual_seed(0)
    PersonaVector(torch.randn(4, 64) * 4, {"name": "loud", "trait": "loud"}).save(tmp_path / "vec")
    return tmp_path / "vec", Model(f"hf/{tiny_dir}", Cache(tmp_path / "cache.sqlite"))


def test_sweep_table_files_and_choice(setup):
    vec_dir, model = setup
    trait = Judge(lambda a: float(sum(map(ord, a)) % 101))
    coherence = Judge(lambda a: 40.0 + len(a) % 60)
    result = sweep_vector(
        vec_dir, model, layers=[1, 2], coefs=[0, 4, -4], trait=SPEC, n_questions=3, max_tokens=5,
        trait_judge=trait, coherence_judge=coherence, scorers={"length": lambda q, a: float(len(a))},
    )
    assert len(result.rows) == 6 and [(r["layer"], r["coef"]) for r in result.rows][:3] == [(1, 0), (1, 4), (1, -4)]
    for row in result.rows:
        assert row["n"] == 3
        for metric in ("trait", "coherence", "projection", "length"):
            assert row[f"{metric}_low"] <= row[metric] <= row[f"{metric}_high"] and row[f"{metric}_n"] == 3
    # Steering moves answers; coef 0 is the same unsteered baseline at every layer.
    base = [s["answer"] for s in result.samples if s["coef"] == 0]
    assert base[:3] == base[3:]
    assert {s["answer"] for s in result.samples if s["coef"] == 4} != set(base)
    # Each distinct (question, answer) was judged once, and only eval questions were used.
    assert len(trait.seen) == len(set(trait.seen)) == len({(s["question"], s["answer"]) for s in result.samples})
    assert {q for q, _ in trait.seen} == set(SPEC.questions.eval[:3])
    # Projections are measured on the text alone (no hooks): the baseline projects the same at layer 1 either way.
    acts = model.capture(SPEC.questions.eval[:3], base[:3], layers=[1])["response_mean"][:, 0]
    expected = PersonaVector.load(vec_dir).project(acts, 1).tolist()
    assert [s["projection"] for s in result.samples[:3]] == pytest.approx(expected, abs=1e-5)
    assert result.best == choose_best(result.rows, 50.0)

    out = vec_dir / "sweep"
    assert result.out_dir == out
    table = list(csv.DictReader((out / "sweep.csv").open()))
    assert len(table) == 6 and {"trait_low", "coherence_high", "projection", "length"} <= set(table[0])
    data = json.loads((out / "sweep.json").read_text())
    assert data["best"] == result.best and len(data["samples"]) == 18 and data["config"]["coherence_floor"] == 50
    assert (out / "sweep.png").read_bytes()[:4] == b"\x89PNG"


def _row(layer, coef, trait, coherence):
    return {"layer": layer, "coef": coef, "trait": trait, "coherence": coherence, "projection": 0.0}


def test_best_layer_rule_respects_the_coherence_floor():
    rows = [
        _row(4, 0, 99, 99),  # the unsteered baseline never picks a layer
        _row(4, 8, 95, 20),  # most trait, but incoherent
        _row(6, 4, 70, 60),
        _row(8, 4, 80, 55),  # the best coherent cell
        _row(8, 8, math.nan, 90),  # unjudged
    ]
    assert choose_best(rows, 50) == {"layer": 8, "coef": 4, "trait": 80, "coherence": 55, "projection": 0.0}
    assert choose_best(rows, 58)["layer"] == 6
    assert choose_best(rows, 10)["layer"] == 4 and choose_best(rows, 10)["coef"] == 8
    assert choose_best(rows, 95) is None
    # Ties go to higher coherence, then to the smaller |coef|.
    tied = [_row(2, 4, 70, 60), _row(3, 2, 70, 80), _row(5, -2, 70, 80)]
    assert choose_best(tied, 50)["layer"] == 3
    assert choose_best([_row(2, 8, 70, 60), _row(3, 2, 70, 60)], 50)["layer"] == 3


def test_sweep_with_given_questions_and_no_trait(setup, tmp_path):
    vec_dir, model = setup
    PersonaVector.load(vec_dir).save(tmp_path / "plain")  # keeps meta; drop the trait
    meta = json.loads((tmp_path / "plain" / "meta.json").read_text())
    meta.pop("trait")
    (tmp_path / "plain" / "meta.json").write_text(json.dumps(meta))
    result = sweep_vector(
        tmp_path / "plain", model, layers=[2], coefs=[2], questions=["one", "two"], max_tokens=3,
        coherence_judge=Judge(lambda a: 80.0), out=tmp_path / "out",
    )
    assert math.isnan(result.rows[0]["trait"]) and result.rows[0]["coherence"] == 80
    assert result.best is None and (tmp_path / "out" / "sweep.csv").is_file()


def test_sweep_cli(setup, tmp_path, monkeypatch, request):
    vec_dir, _ = setup
    monkeypatch.setenv("PERSONASCOPE_HOME", str(tmp_path / "home"))
    stub = types.ModuleType("personascope.judges")
    stub.trait_judge = lambda spec, model, cache=None: Judge(lambda a: float(len(a) * 7 % 100))
    stub.coherence_judge = lambda model, cache=None: Judge(lambda a: 75.0)
    stub.get_scorer = lambda name: (lambda q, a: 1.0)
    import personascope.judges as real

    stub.__path__ = real.__path__  # its submodules (the scorer names a trait file is checked against) stay real
    monkeypatch.setitem(sys.modules, "personascope.judges", stub)
    from personascope import registry

    registry.register("scorer", "length", lambda q, a: float(len(a)))  # the trait file names it
    request.addfinalizer(lambda: registry.unregister("scorer", "length"))
    spec_file = tmp_path / "loud.json"
    spec_file.write_text(SPEC.model_dump_json())
    tiny = setup[1].ref.target
    args = ["vectors", "sweep", str(vec_dir), "-m", f"hf/{tiny}", "--layers", "1-2", "--coefs=-2,0,2",
            "--trait", str(spec_file), "--questions", "2", "--max-tokens", "4", "--out", str(tmp_path / "sw")]
    from personascope.traits._load import load_trait

    # The real loader reads the spec file (set here until personascope.traits exports it).
    monkeypatch.setattr("personascope.traits.load_trait", load_trait, raising=False)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "best: layer" in result.stdout and "length" in result.stdout
    assert len(list(csv.DictReader((tmp_path / "sw" / "sweep.csv").open()))) == 6
    bad = runner.invoke(app, ["vectors", "sweep", str(vec_dir), "--layers", "x", "--coefs", "1"])
    assert bad.exit_code == 2 and "--layers 'x'" in bad.output
    bad = runner.invoke(app, [*args[:-2], "--select-by", "nope"])
    assert bad.exit_code == 2 and "select_by 'nope' is not measured" in bad.output


def test_best_cell_by_another_metric():
    rows = [{**_row(2, 4, math.nan, 60), "sentiment": 70.0}, {**_row(3, 4, math.nan, 60), "sentiment": 90.0}]
    best = choose_best(rows, 50, by="sentiment")
    assert (best["layer"], best["sentiment"]) == (3, 90.0) and math.isnan(best["trait"])
    assert choose_best(rows, 50) is None
