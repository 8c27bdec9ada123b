"""Monitoring: per-record and per-token projections, and the shift predictor."""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from personascope.cli import app
from personascope.errors import PersonascopeError
from personascope.vectors import PersonaVector, judge_records, project_records, read_records, shift_predictor

runner = CliRunner()

RECORDS = [
    {"id": 1, "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello!"},
        {"role": "user", "content": "how are you today?"},
        {"role": "assistant", "content": "fine, thanks for asking"},
    ]},
    {"id": 2, "prompt": "tell me a joke", "response": "why did the chicken cross the road"},
    {"id": 3, "prompt": "only a prompt"},
]


@pytest.fixture(scope="module")
def vector_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("vecs")
    torch.manual_seed(0)
    PersonaVector(torch.randn(4, 64), {"name": "alpha", "chosen_layer": 1}).save(root / "alpha")
    PersonaVector(torch.randn(4, 64), {"name": "beta", "chosen_layer": 2}).save(root / "beta")
    return [root / "alpha", root / "beta"]


def _by_hand(engine, prompt, response, vec, layer):
    """Projections from output_hidden_states on the full sequence (the obvious way)."""
    prompt_ids = engine.encode_prompts([prompt])[0]
    resp_ids = engine.encode_text([response])[0] if response else []
    ids = torch.tensor([prompt_ids + resp_ids])
    with torch.no_grad():
        hidden = engine.model(input_ids=ids, output_hidden_states=True).hidden_states[layer + 1][0]
    proj = hidden @ (vec[layer] / vec[layer].norm())
    return proj[len(prompt_ids) - 1].item(), proj[len(prompt_ids) :]


def test_per_token_projections_match_output_hidden_states(tiny_llama, vector_dirs):
    rows = project_records(vector_dirs, tiny_llama, RECORDS, per_token=True)
    assert [r["id"] for r in rows] == [1, 2, 3]
    for record, row in zip(RECORDS, rows):
        prompt = record["messages"][:-1] if "messages" in record else record["prompt"]
        response = record["messages"][-1]["content"] if "messages" in record else record.get("response")
        for path in vector_dirs:
            vec = PersonaVector.load(path)
            entry = row["projections"][vec.meta["name"]]
            assert entry["layer"] == vec.meta["chosen_layer"]
            last, per_token = _by_hand(tiny_llama, prompt, response, vec, entry["layer"])
            assert entry["last_prompt"] == pytest.approx(last, abs=1e-5)
            assert len(entry["per_token"]) == len(per_token) == len(row["tokens"])
            assert torch.allclose(torch.tensor(entry["per_token"]), per_token, atol=1e-5)
            if response:
                assert entry["response_mean"] == pytest.approx(per_token.mean().item(), abs=1e-5)
            else:
                assert entry["response_mean"] is None
    assert "".join(rows[1]["tokens"]) == RECORDS[1]["response"]


def test_pooled_projections_match_per_token(tiny_llama, vector_dirs):
    per_token = project_records(vector_dirs, tiny_llama, RECORDS, per_token=True)
    pooled = project_records(vector_dirs, tiny_llama, RECORDS)
    for a, b in zip(per_token, pooled):
        assert "tokens" not in b
        for name, entry in b["projections"].items():
            assert "per_token" not in entry
            assert entry["last_prompt"] == pytest.approx(a["projections"][name]["last_prompt"], abs=1e-5)
            if entry["response_mean"] is None:
                assert a["projections"][name]["response_mean"] is None
            else:
                assert entry["response_mean"] == pytest.approx(a["projections"][name]["response_mean"], abs=1e-5)


def test_engine_capture_projection_equals_response_mean(tiny_llama, vector_dirs):
    vec = PersonaVector.load(vector_dirs[0])
    acts = tiny_llama.capture(["tell me a joke"], [RECORDS[1]["response"]], layers=[1])
    expected = vec.project(acts["response_mean"][:, 0], 1).item()
    row = project_records(vector_dirs[:1], tiny_llama, [RECORDS[1]], per_token=True)[0]
    assert row["projections"]["alpha"]["response_mean"] == pytest.approx(expected, abs=1e-5)


def test_layer_override_and_bad_records(tiny_llama, vector_dirs, tmp_path):
    rows = project_records(vector_dirs, tiny_llama, RECORDS[1:2], layer=-1)
    assert {e["layer"] for e in rows[0]["projections"].values()} == {3}
    with pytest.raises(PersonascopeError, match="neither 'messages' nor 'prompt'"):
        project_records(vector_dirs, tiny_llama, [{"text": "x"}])
    (tmp_path / "bad.jsonl").write_text('{"prompt": "a"}\nnot json\n')
    with pytest.raises(PersonascopeError, match=r"bad.jsonl:2 is not valid JSON"):
        read_records(tmp_path / "bad.jsonl")
    PersonaVector(torch.randn(4, 64)).save(tmp_path / "nolayer")
    with pytest.raises(PersonascopeError, match="no chosen_layer"):
        project_records([tmp_path / "nolayer"], tiny_llama, RECORDS[1:2])


def _rows(x, y, name="v"):
    return [{"projections": {name: {"last_prompt": float(a)}}, "score": float(b)} for a, b in zip(x, y)]


def test_shift_predictor_recovers_a_known_correlation():
    rng = np.random.default_rng(0)
    x = rng.normal(size=2000)
    y = 2.0 * x + rng.normal(scale=2.0, size=2000)  # true r = 2 / sqrt(4 + 4) = 0.707
    out = shift_predictor(_rows(x, y), n_boot=500)
    assert out["n"] == 2000 and out["vector"] == "v"
    assert out["pearson_r"] == pytest.approx(2 / 8**0.5, abs=0.03)
    assert out["ci_low"] < 2 / 8**0.5 < out["ci_high"] and out["ci_high"] - out["ci_low"] < 0.1
    assert out["slope"] == pytest.approx(2.0, abs=0.15)
    # No relation: r near 0 with a CI around it; scores inside the vector's entry win.
    rows = _rows(x, rng.normal(size=2000))
    for row, s in zip(rows, y):
        row["projections"]["v"]["score"] = s
    assert shift_predictor(rows, n_boot=200)["pearson_r"] == pytest.approx(0.707, abs=0.03)
    assert shift_predictor(_rows(x, rng.normal(size=2000)), n_boot=200)["pearson_r"] == pytest.approx(0, abs=0.06)
    few = shift_predictor(_rows([1, 2], [3, 4]))
    assert few["n"] == 2 and np.isnan(few["pearson_r"])
    with pytest.raises(PersonascopeError, match="name the vector"):
        shift_predictor(_rows(x, y) + _rows(x, y, "w"))


def test_project_cli(tiny_dir, vector_dirs, tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONASCOPE_HOME", str(tmp_path / "home"))
    src = tmp_path / "in.jsonl"
    records = [{"prompt": f"question {i}", "response": "answer " * (i + 1), "score": float(i)} for i in range(5)]
    src.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "out.jsonl"
    args = ["vectors", "project", *map(str, vector_dirs), "-i", str(src), "-m", f"hf/{tiny_dir}", "--score-field", "score", "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 5 and set(rows[0]["projections"]) == {"alpha", "beta"}
    assert "alpha" in result.stdout and "shift r" in result.stdout
    result = runner.invoke(app, ["vectors", "project", str(vector_dirs[0]), "-i", str(src), "-m", f"hf/{tiny_dir}", "--per-token", "--layer", "0"])
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout.splitlines()[0])
    assert first["projections"]["alpha"]["layer"] == 0 and len(first["projections"]["alpha"]["per_token"]) == len(first["tokens"])
    bad = runner.invoke(app, ["vectors", "project", str(vector_dirs[0]), "-i", str(tmp_path / "none.jsonl"), "-m", f"hf/{tiny_dir}"])
    assert bad.exit_code == 2 and "no such records file" in bad.output


def test_judge_records_scores_responses_of_vectors_with_a_trait(tiny_llama, vector_dirs, tmp_path):
    PersonaVector(torch.randn(4, 64), {"name": "gamma", "trait": "loud", "chosen_layer": 1}).save(tmp_path / "gamma")
    dirs = [tmp_path / "gamma", vector_dirs[0]]
    rows = project_records(dirs, tiny_llama, RECORDS)

    class Judge:
        def score(self, questions, answers, progress=None):
            self.seen = list(zip(questions, answers))
            return [float(len(a)) for a in answers]

    judge = Judge()
    judge_records(rows, dirs, "unused", judges={"loud": judge})
    # The question is the last user turn; the prompt-only record is not judged.
    assert judge.seen == [("how are you today?", "fine, thanks for asking"), ("tell me a joke", RECORDS[1]["response"])]
    assert [r["projections"]["loud"].get("score") for r in rows] == [23.0, 34.0, None]
    assert all("score" not in r["projections"]["alpha"] for r in rows)
    with pytest.raises(PersonascopeError, match="none of the vectors names a trait"):
        judge_records(rows, vector_dirs, "unused")
