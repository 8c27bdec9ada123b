"""The worked example of docs/architecture.md: a protocol, its scorer and its report
section defined outside the package, run from a study YAML by module:Class reference."""

import sys
from pathlib import Path

import pytest
import yaml

from personascope import registry

from personascope.study import parse_study, run_study
from personascope.store import RunStore

EXAMPLE = Path(__file__).parent.parent / "examples" / "plugin"


@pytest.fixture
def example_on_path(monkeypatch):
    """The example's folder on the Python path; what it registers is removed after."""
    monkeypatch.syspath_prepend(str(EXAMPLE))
    yield
    for kind, name in (("step", "reply-length"), ("scorer", "exclaims"), ("section", "reply-length")):
        registry.unregister(kind, name)
    sys.modules.pop("reply_length", None)


def test_a_protocol_from_outside_the_package_runs_from_a_study(tmp_path, tiny_dir, example_on_path):
    raw = yaml.safe_load((EXAMPLE / "reply_length.yaml").read_text())
    raw["models"] = {"tiny": f"hf/{tiny_dir}"}
    raw["steps"][0]["max_tokens"] = 8
    study = parse_study(raw, file="reply_length.yaml", source=EXAMPLE / "reply_length.yaml")
    assert type(study.steps[0]).__name__ == "ReplyLength"

    result = run_study(study, runs_dir=tmp_path / "runs", progress=False)

    store = RunStore(result.run_dir / "store.sqlite")
    transcripts = store.transcripts(step="lengths")
    assert len(transcripts) == 6 and {t.arm for t in transcripts} == {"plain", "cheerful"}
    # The recorded words metric is the mean of the transcripts' word counts, per arm.
    metrics = {(m.name, m.arm): m for m in store.metrics(step="lengths")}
    for arm in ("plain", "cheerful"):
        words = [t.scores["words"] for t in transcripts if t.arm == arm]
        assert metrics[("words", arm)].value == sum(words) / len(words)
    assert (result.run_dir / "artifacts" / "lengths" / "lengths-tiny.json").is_file()
    # The example's own section draws the step in the report.
    assert "Mean words per answer by arm" in result.report.read_text()
