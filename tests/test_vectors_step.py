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
    assert metrics[("held-out AUROC", "")].headline and metrics[("held-out Cohen's d", "")].headline
    assert metrics[("chosen layer", "")].value == vec.meta["chosen_layer"]
    assert metrics[("kept pairs", "")].value == 6
    assert {("steered projection", f"coef {c}") for c in (0, 4, 8)} <= set(metrics)
    assert ("steer check monotonic", "") in metrics
    transcripts = store.transcripts("happy")
    arms = {t.arm for t in transcripts}
    assert {"positive", "negative", "steer +0", "steer +4", "steer +8"} <= arms
    assert len([t for t in transcripts if t.metadata.get("split") == "extract"]) == 12
    layers = json.loads((run / "artifacts" / "happy" / "layers.json").read_text())
    assert {"layer", "auroc", "cohens_d", "auroc_text_only", "norm"} <= set(layers[0])
    steer = json.loads((run / "artifacts" / "happy" / "steer_check.json").read_text())
    assert [r["coef"] for r in steer["coefs"]] == [0, 4, 8] and isinstance(steer["monotonic"], bool)
    assert {m.name for m in store.metrics("use")} >= {"projection happy@2"}
    html = result.report.read_text()
    assert "Held-out AUROC and Cohen" in html and "Steering check" in html and "judge" in html.lower()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_vectors_step_validation(tmp_path, tiny_dir):
    from personascope.errors import PersonascopeError

    path = write_study(tmp_path, tiny_dir, trait="nope.yaml")
    with pytest.raises(PersonascopeError, match="trait: 'nope.yaml' is neither a built-in trait nor a spec file"):
        load_study(path)
    path = write_study(tmp_path, tiny_dir, samples=2)
    with pytest.raises(PersonascopeError, match="temperature"):
        load_study(path)
