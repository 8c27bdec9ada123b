"""Studies on a tiny local model: configs, runs, the manifest, reuse and --no-cache."""

import json
import textwrap

import pytest
from typer.testing import CliRunner

from personascope.cli import app
from personascope.errors import PersonascopeError
from personascope.store import Cache, RunStore
from personascope.study import load_study, run_study

runner = CliRunner()

QUESTIONS = ["How are you?", "What is the sky like?", "Tell me a story.", "Do you like cats?"]


def write_study(folder, tiny_dir, **extra) -> str:
    config = {
        "name": "tiny",
        "description": "a tiny study",
        "models": {"tiny": f"hf/{tiny_dir}"},
        "seed": 3,
        "steps": [
            {"id": "vec", "type": "contrast", "questions": QUESTIONS, "positive_system": "Be happy.",
             "negative_system": "Be sad.", "max_tokens": 6},
            {"id": "answers", "type": "generate", "prompts": QUESTIONS[:3], "max_tokens": 5,
             "arms": {"plain": {}, "up": {"steer": "vec@2:8"}, "down": {"steer": "vec@2:-8"}},
             "project": ["vec@2"]},
        ],
        **extra,
    }
    path = folder / "study.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return str(path)


class Counter:
    """Counts engine work by patching the engine class (independent of cache bookkeeping)."""

    def __init__(self, monkeypatch):
        from personascope.engine import Engine

        self.calls = 0
        for name in ("generate", "capture", "score", "top_logprobs"):
            original = getattr(Engine, name)
            monkeypatch.setattr(Engine, name, self._wrap(original))

    def _wrap(self, fn):
        def wrapped(*args, **kwargs):
            self.calls += 1
            return fn(*args, **kwargs)

        return wrapped


def test_study_runs_and_writes_manifest_store_and_artifacts(tmp_path, tiny_dir, monkeypatch):
    counter = Counter(monkeypatch)
    cache = Cache(tmp_path / "cache.sqlite")
    result = run_study(write_study(tmp_path, tiny_dir), runs_dir=tmp_path / "runs", cache=cache, progress=False)
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["status"] == "done" and manifest["step_order"] == ["vec", "answers"]
    assert manifest["config"]["steps"][1]["arms"]["up"]["steer"] == ["vec@2:8"]
    assert {"personascope", "torch", "transformers", "python"} <= manifest["versions"].keys()
    assert manifest["steps"]["answers"]["needs"] == ["vec"] and manifest["steps"]["answers"]["seed"] == 3
    assert all(s["seconds"] > 0 and s["model_calls"] > 0 for s in manifest["steps"].values())
    assert manifest["models"]["tiny"]["weights"] and "api_key" not in json.dumps(manifest)
    assert counter.calls > 0

    store = RunStore(result.run_dir / "store.sqlite")
    answers = store.transcripts("answers")
    assert len(answers) == 9 and {t.arm for t in answers} == {"plain", "up", "down"}
    assert all("projection vec@2" in t.scores for t in answers)
    assert answers[0].messages[-1] == {"role": "assistant", "content": answers[0].output}
    projections = {m.arm: m for m in store.metrics("answers") if m.name == "projection vec@2"}
    assert set(projections) == {"plain", "up", "down"} and all(m.n == 3 and m.headline for m in projections.values())
    by_arm = {arm: [t.output for t in answers if t.arm == arm] for arm in ("plain", "up")}
    assert by_arm["up"] != by_arm["plain"]  # the steer spec reached the model
    assert (result.run_dir / "artifacts" / "vec" / "vector" / "vectors.safetensors").is_file()
    assert (result.run_dir / "report.html").is_file()


def test_rerun_makes_no_model_calls_and_no_cache_makes_them_again(tmp_path, tiny_dir, monkeypatch):
    config = write_study(tmp_path, tiny_dir)
    cache_file = tmp_path / "cache.sqlite"
    first = run_study(config, runs_dir=tmp_path / "runs", cache=Cache(cache_file), progress=False)
    counter = Counter(monkeypatch)
    second = run_study(config, runs_dir=tmp_path / "runs", cache=Cache(cache_file), progress=False)
    assert counter.calls == 0 and second.model_calls == 0
    assert second.run_dir != first.run_dir  # a finished run is never reopened
    assert all(s["reused"] for s in second.manifest["steps"].values())
    rows = lambda r: [(t.id, t.output, t.scores) for t in RunStore(r.run_dir / "store.sqlite").transcripts()]  # noqa: E731
    assert rows(first) == rows(second)

    entries = len(Cache(cache_file))
    third = run_study(config, runs_dir=tmp_path / "runs", cache=Cache(cache_file, enabled=False), progress=False)
    assert counter.calls > 0 and third.model_calls > 0
    assert not any(s["reused"] for s in third.manifest["steps"].values())
    assert len(Cache(cache_file)) == entries
    assert rows(third) == rows(first)  # greedy decoding: recomputing gives the same text


def test_changed_step_reuses_model_calls_of_unchanged_items(tmp_path, tiny_dir, monkeypatch):
    config = write_study(tmp_path, tiny_dir)
    cache = Cache(tmp_path / "cache.sqlite")
    run_study(config, runs_dir=tmp_path / "runs", cache=cache, progress=False)
    raw = json.loads(open(config).read())
    raw["steps"][1]["prompts"].append("A new question?")
    open(config, "w").write(json.dumps(raw))
    cache = Cache(tmp_path / "cache.sqlite")
    result = run_study(config, runs_dir=tmp_path / "runs", cache=cache, progress=False)
    step = result.manifest["steps"]["answers"]
    assert result.manifest["steps"]["vec"]["reused"] and not step["reused"]
    # 3 arms x 1 new prompt to generate, and up to as many new texts to project (a
    # random tiny model may give two arms the same text); everything else is cached.
    assert step["cache"]["hits"] + step["cache"]["misses"] == 24
    assert 3 < step["cache"]["misses"] <= 6


def test_unfinished_run_is_resumed_in_place(tmp_path, tiny_dir):
    from personascope.study._manifest import read_manifest, write_manifest

    config = write_study(tmp_path, tiny_dir)
    cache = Cache(tmp_path / "cache.sqlite")
    first = run_study(config, runs_dir=tmp_path / "runs", cache=cache, progress=False)
    manifest = read_manifest(first.run_dir)
    manifest["status"] = "failed"
    manifest["steps"]["answers"]["status"] = "failed"
    write_manifest(first.run_dir, manifest)
    again = run_study(config, runs_dir=tmp_path / "runs", cache=cache, progress=False)
    assert again.run_dir == first.run_dir and again.manifest["resumed"] == 1
    assert again.manifest["status"] == "done"
    assert len(RunStore(again.run_dir / "store.sqlite").transcripts("answers")) == 9
    fresh = run_study(config, runs_dir=tmp_path / "runs", cache=cache, progress=False, new=True)
    assert fresh.run_dir != first.run_dir


def test_failed_step_is_recorded_and_raised(tmp_path, tiny_dir):
    path = write_study(tmp_path, tiny_dir)
    raw = json.loads(open(path).read())
    raw["steps"][1]["arms"]["up"]["steer"] = "vec@2:8"
    raw["steps"][1]["project"] = ["vec@99"]  # out of range for a 4-layer model
    open(path, "w").write(json.dumps(raw))
    with pytest.raises(PersonascopeError):
        run_study(path, runs_dir=tmp_path / "runs", cache=Cache(tmp_path / "c.sqlite"), progress=False)
    run_dir = next((tmp_path / "runs").iterdir())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["steps"]["vec"]["status"] == "done"
    assert manifest["steps"]["answers"]["status"] == "failed" and "99" in manifest["steps"]["answers"]["error"]


def test_cli_study_run_and_validate(tmp_path, tiny_dir):
    config = write_study(tmp_path, tiny_dir)
    result = runner.invoke(app, ["study", "validate", config])
    assert result.exit_code == 0, result.output
    assert "1. vec (contrast)" in result.output and "2. answers (generate) on tiny after vec" in result.output
    env = {"PERSONASCOPE_HOME": str(tmp_path / "home")}
    result = runner.invoke(app, ["study", "run", config, "--runs-dir", str(tmp_path / "runs")], env=env)
    assert result.exit_code == 0, result.output
    assert "report:" in result.output and "report.html" in result.output
    assert (tmp_path / "home" / "cache" / "calls.sqlite").is_file()


# -- config errors -----------------------------------------------------------
def _error(tmp_path, text: str) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(PersonascopeError) as info:
        load_study(path)
    return str(info.value)


def test_unknown_step_type_names_file_line_field_and_fix(tmp_path):
    msg = _error(tmp_path, """\
        name: bad
        steps:
          - id: a
            type: generat
            prompts: [hi]
        """)
    assert "bad.yaml:4: steps[0].type: unknown step type 'generat'" in msg
    assert "fix: use one of: contrast, drift, eval, generate, rtt, selfchat, therapy, train, vectors" in msg


def test_bad_field_type_and_unknown_field(tmp_path):
    msg = _error(tmp_path, """\
        name: bad
        steps:
          - id: a
            type: generate
            prompts: [hi]
            max_tokens: many
            colour: blue
        """)
    assert "bad.yaml:6: steps[0].max_tokens" in msg and "'many'" in msg and "fix: write a whole number" in msg
    assert "bad.yaml:7: steps[0].colour" in msg and "use one of: id, type" in msg


def test_missing_model(tmp_path):
    msg = _error(tmp_path, """\
        name: bad
        models: {small: smollm2}
        steps:
          - {id: a, type: generate, model: big, prompts: [hi]}
        """)
    assert "bad.yaml:4: steps[0].model: 'big' is not a model of this study" in msg
    assert "fix: add it under models:, or use one of: small" in msg
    msg = _error(tmp_path, "name: bad\nmodels: [smolm2]\nsteps:\n  - {id: a, type: generate, prompts: [hi]}\n")
    assert "models.smolm2: unknown model 'smolm2'" in msg


def test_cyclic_dependency(tmp_path):
    msg = _error(tmp_path, """\
        name: bad
        steps:
          - {id: a, type: generate, prompts: [hi], needs: [b]}
          - {id: b, type: generate, prompts: [hi], needs: [a]}
        """)
    assert "cycle: a -> b -> a" in msg and "fix: remove one of these dependencies" in msg


def test_references_files_and_yaml_syntax(tmp_path):
    msg = _error(tmp_path, """\
        name: bad
        steps:
          - {id: a, type: generate, prompts: missing.txt, arms: {up: {steer: "nowhere@3:1"}}}
          - {id: b, type: generate, prompts: [x], project: ["a@3"], needs: [zzz]}
        """)
    assert "no prompts file 'missing.txt'" in msg
    assert "'nowhere' is neither a step id nor a vector directory" in msg
    assert "step 'a' makes no vector" in msg
    assert "steps[1].needs: no step has id 'zzz'" in msg
    assert msg.startswith("4 problems")
    msg = _error(tmp_path, "name: x\nsteps:\n  - id: a\n   type: generate\n")
    assert "bad.yaml:4: not valid YAML" in msg


def test_cli_validate_error_exits_2(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nsteps: []\n")
    result = runner.invoke(app, ["study", "validate", str(path)])
    assert result.exit_code == 2
    assert "error:" in result.output and "bad.yaml:2: steps" in result.output


def test_quickstart_config_is_valid():
    study = load_study("examples/quickstart.yaml")
    assert study.steps[0].produces_vector and study.dependencies(study.step("steering")) == ["mood"]
