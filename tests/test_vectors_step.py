"""The `vectors` study step on a tiny model: the vector other steps use, metrics,
transcripts, the steering check and the report section."""

import json

import pytest

from personascope.store import Cache, RunStore
from personascope.study import load_study, run_study
from personascope.vectors import PersonaVector

SPEC = {
    "name": "happy",
    "description": "Cheerful and upbeat.",
    "instructions": [{"pos": f"Be very happy ({i}).", "neg": f"Be very sad ({i})."} for i in range(2)],
    "questions": {
        "extract": ["How are you?", "What is the sky like?", "Tell me a story."],
        "eval": ["Hi?", "Any news?", "Why <script>alert(1)</script> rain?", "What now?"],
    },
    "judge": {"rubric": "How happy is this? {question} {answer} Answer 0-100."},
}


def write_study(folder, tiny_dir, **step) -> str:
    (folder / "happy.json").write_text(json.dumps(SPEC))
    config = {
        "name": "vec",
        "models": {"tiny": f"hf/{tiny_dir}"},
        "steps": [
            {"id": "happy", "type": "vectors", "trait": "happy.json", "judge": False, "max_tokens": 5,
             "eval_questions": 4, "min_pairs": 2, **step},
            {"id": "use", "type": "generate", "prompts": ["Hello?"], "max_tokens": 4,
             "arms": {"up": {"steer": "happy@2:4"}}, "project": ["happy@2"]},
        ],
    }
    path = folder / "study.yaml"
    path.write_text(json.dumps(config))
    return str(path)


def test_vectors_step_writes_vector_metrics_transcripts_and_report(tmp_path, tiny_dir):
    study = write_study(tmp_path, tiny_dir, steer_check={"coefs": [0, 4, 8], "questions": 3})
    result = run_study(study, runs_dir=tmp_path / "runs", cache=Cache(tmp_path / "c.sqlite"), progress=False)
    run = result.run_dir
    vec = PersonaVector.load(run / "artifacts" / "happy" / "vector")
    assert vec.meta["trait"] == "happy" and vec.meta["chosen_layer"] in range(4)
    store = RunStore(run / "store.sqlite")
    metrics = {(m.name, m.arm): m for m in store.metrics("happy")}
    # The text-only reading heads the metrics; the in-context one follows, not as a headline.
    assert metrics[("held-out AUROC (text only)", "")].headline and metrics[("held-out Cohen's d (text only)", "")].headline
    assert not metrics[("held-out AUROC (prompt in context)", "")].headline
    assert vec.meta["layer_selected_by"] == "text_only"
    assert metrics[("chosen layer", "")].value == vec.meta["chosen_layer"]
    assert metrics[("kept pairs", "")].value == 6
    assert {("steered projection", f"coef {c}") for c in (0, 4, 8)} <= set(metrics)
    assert ("steer check monotonic", "") in metrics
    transcripts = store.transcripts("happy")
    arms = {t.arm for t in transcripts}
    assert {"positive", "negative", "steer +0", "steer +4", "steer +8"} <= arms
    assert len([t for t in transcripts if t.metadata.get("split") == "extract"]) == 12
    layers = json.loads((run / "artifacts" / "happy" / "layers.json").read_text())
    assert {"layer", "auroc", "cohens_d", "auroc_text_only", "cohens_d_text_only", "norm"} <= set(layers[0])
    steer = json.loads((run / "artifacts" / "happy" / "steer_check.json").read_text())
    assert [r["coef"] for r in steer["coefs"]] == [0, 4, 8] and isinstance(steer["monotonic"], bool)
    assert {m.name for m in store.metrics("use")} >= {"projection happy@2"}
    html = result.report.read_text()
    assert "Held-out AUROC and Cohen" in html and "held-out AUROC, text only" in html and "Steering check" in html and "judge" in html.lower()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_vectors_step_validation(tmp_path, tiny_dir):
    from personascope.errors import PersonascopeError

    path = write_study(tmp_path, tiny_dir, trait="nope.yaml")
    with pytest.raises(PersonascopeError, match="trait: 'nope.yaml' is neither a built-in trait nor a spec file"):
        load_study(path)
    path = write_study(tmp_path, tiny_dir, samples=2)
    with pytest.raises(PersonascopeError, match="temperature"):
        load_study(path)


def test_contrast_and_generate_record_one_result_per_model(tmp_path, tiny_dir):
    from personascope.protocol import check_result
    from personascope.study import step_study
    from personascope.vectors._step_generate import GenerateResult

    config = {
        "name": "rec",
        "models": {"tiny": f"hf/{tiny_dir}"},
        "steps": [
            {"id": "vec", "type": "contrast", "questions": ["Hi?", "Why?", "How?"], "positive_system": "Be happy.",
             "negative_system": "Be sad.", "max_tokens": 3},
            {"id": "gen", "type": "generate", "prompts": ["Hello?", "Bye?"], "max_tokens": 3, "project": ["vec@1"]},
        ],
    }
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps(config))
    run = run_study(str(path), runs_dir=tmp_path / "runs", cache=Cache(tmp_path / "c.sqlite"), progress=False).run_dir
    store = RunStore(run / "store.sqlite")
    contrast = json.loads((run / "artifacts" / "vec" / "result-tiny.json").read_text())
    layers = json.loads((run / "artifacts" / "vec" / "layers.json").read_text())
    metrics = {m.name: m for m in store.metrics("vec")}
    assert contrast["layers"] == layers and contrast["best_layer"] == metrics["best layer (in-sample d)"].value
    assert {a.name for a in store.artifacts("vec")} == {"vector", "layers", "result tiny"}
    gen = json.loads((run / "artifacts" / "gen" / "result-tiny.json").read_text())
    assert gen["responses"] == {"default": 2}  # a generate step without arms runs one default arm
    by_name = {(m.arm, m.name): m.value for m in store.metrics("gen")}
    assert {(s["arm"], s["name"]): s["value"] for s in gen["stats"]} == by_name
    assert ("default", "projection vec@1") in by_name and {t.arm for t in store.transcripts("gen")} == {"default"}
    check_result(GenerateResult())
    assert step_study({"id": "g", "type": "generate", "prompts": ["x"]}, "smollm2").steps[0].arms.keys() == {"default"}
