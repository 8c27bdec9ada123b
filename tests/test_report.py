"""The HTML report on hand-built run directories (no model): one offline file, one
section per step, and model text that can only ever be text."""

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from personascope.cli import app
from personascope.report import StepView, build_report, section
from personascope.store import STORE_NAME, Artifact, Metric, RunStore, Transcript
from personascope.study._manifest import write_manifest

INJECTION = "<script>alert(1)</script></script><img src=x onerror=alert(2)>"
DATA_BLOCK = re.compile(r'<script type="application/json" id="ps-data">(.*?)</script>', re.S)

runner = CliRunner()


def _conv(step, model, arm, sample, prompt, answer, system=None, scores=None):
    msgs = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": prompt}, {"role": "assistant", "content": answer},
    ]
    return Transcript(id=f"{step}-{arm}-{sample}", step=step, model=model, arm=arm, sample=sample, messages=msgs, output=answer, scores=scores or {})


def make_run(run_dir: Path, *, injection: str = INJECTION) -> Path:
    """A finished-looking run: contrast, generate (with `injection` in a response),
    a step of an unknown type, a failed step and a step that never ran."""
    run_dir.mkdir(parents=True, exist_ok=True)
    store = RunStore(run_dir / STORE_NAME, create=True)
    steps = [
        {"id": "mood", "type": "contrast", "positive_system": "Be cheerful.", "negative_system": "Be gloomy.", "questions": ["a?", "b?"], "pooling": "response_mean"},
        {"id": "steer", "type": "generate", "arms": {"plain": {}, "up <b>": {"steer": ["mood@2:4.0"]}}, "samples": 1, "max_tokens": 8, "temperature": 0.0},
        {"id": "odd", "type": "mystery"},
        {"id": "broken", "type": "generate", "arms": {"plain": {}}},
        {"id": "later", "type": "generate"},
    ]
    layers = [{"layer": i, "norm": 1.0 + i, "cohens_d": d, "auroc": a} for i, (d, a) in enumerate([(0.2, 0.55), (1.5, 0.9), (2.5, 1.0), (float("nan"), float("nan"))])]
    (run_dir / "artifacts" / "mood").mkdir(parents=True)
    (run_dir / "artifacts" / "mood" / "layers.json").write_text(json.dumps(layers))
    store.add_artifact(Artifact("mood", "layers", "table", "artifacts/mood/layers.json", {"in_sample": True}))
    store.add_transcripts(
        _conv("mood", "tiny", side, f"q{i}", q, f"{side} answer {i}", system=f"Be {side}.")
        for side in ("positive", "negative") for i, q in enumerate(["a?", "b?"])
    )
    store.add_metrics([
        Metric("mood", "best layer (in-sample d)", 2, model="tiny"),
        Metric("mood", "in-sample Cohen's d", 2.5, model="tiny", n=4, headline=True),
    ])
    answers = {("plain", "p0"): injection, ("plain", "p1"): "calm", ("up <b>", "p0"): "sunny!", ("up <b>", "p1"): "great!"}
    store.add_transcripts(
        _conv("steer", "tiny", arm, sample, f"prompt {sample}", text, scores={"projection mood@2": 1.0 if arm == "plain" else 5.0})
        for (arm, sample), text in answers.items()
    )
    store.add_metrics([
        Metric("steer", "projection mood@2", 1.0, arm="plain", model="tiny", ci_low=0.5, ci_high=1.5, n=2, headline=True),
        Metric("steer", "projection mood@2", 5.0, arm="up <b>", model="tiny", ci_low=4.0, ci_high=float("nan"), n=2, headline=True),
    ])
    store.add_transcripts([_conv("odd", "tiny", "", "s0", "odd prompt", "odd answer", scores={"weird": float("inf")})])
    store.add_metrics([Metric("odd", "oddity", 0.25, model="tiny")])
    done = {"status": "done", "seconds": 1.5, "cache": {"hits": 1, "misses": 2}, "model_calls": 2, "error": None}
    manifest = {
        "schema_version": 1, "run_id": run_dir.name, "study": "demo <study>", "description": "A <i>test</i> run.",
        "config": {"name": "demo", "models": {"tiny": {"name": "hf/tiny"}}, "steps": steps},
        "status": "failed", "created": "2026-01-01T00:00:00+00:00", "finished": "2026-01-01T00:01:00+00:00", "seconds": 60.0,
        "versions": {"python": "3.11", "personascope": "0.1.0", "platform": "Linux"}, "git": {"sha": "abc123def4567890", "dirty": True},
        "seed": 0, "models": {"tiny": {"name": "hf/tiny", "device": "cpu", "dtype": "float32", "weights": "f" * 64}},
        "cache": {"enabled": True, "hits": 3, "misses": 6}, "step_order": [s["id"] for s in steps],
        "steps": {
            "mood": {"type": "contrast", **done}, "steer": {"type": "generate", **done}, "odd": {"type": "mystery", **done},
            "broken": {"type": "generate", **done, "status": "failed", "error": "RuntimeError: boom <b>bad</b>"},
            "later": {"type": "generate", "status": "pending"},
        },
    }
    write_manifest(run_dir, manifest)
    return run_dir


@pytest.fixture
def run_dir(tmp_path):
    return make_run(tmp_path / "demo-20260101-000000")


def _section(page: str, step_id: str) -> str:
    start = page.index(f'<section id="step-{step_id}"')
    return page[start:page.index("</section>", start)]


def test_report_is_one_offline_file(run_dir):
    before = set(run_dir.iterdir())
    path = build_report(run_dir)
    assert path == run_dir / "report.html"
    assert set(run_dir.iterdir()) == before | {path}  # no temp file left behind
    page = path.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", page, re.I)
    assert "<link" not in page and "url(" not in page and "@import" not in page
    assert re.search(r'<img[^>]+src="data:image/png;base64,', page)
    # Only two script elements: the data block and the report's own code.
    assert page.count("<script") == 2
    assert build_report(run_dir).read_text() == page  # rebuilding is deterministic


def test_one_section_per_step_in_order(run_dir):
    page = build_report(run_dir).read_text()
    starts = [page.index(f'id="step-{s}"') for s in ("mood", "steer", "odd", "broken", "later")]
    assert starts == sorted(starts)
    mood = _section(page, "mood")
    assert "in-sample" in mood.lower() and "best layer" in mood and "data:image/png" in mood
    steer = _section(page, "steer")
    assert "Responses side by side" in steer and "projection mood@2" in steer and "data:image/png" in steer
    assert "up &lt;b&gt;" in steer and "up <b>" not in page.replace(html.escape("up <b>"), "")
    assert "This step has not run" in _section(page, "later")


def test_model_text_is_escaped_everywhere(run_dir):
    page = build_report(run_dir).read_text()
    assert INJECTION not in page
    assert html.escape(INJECTION) in _section(page, "steer")  # shown as text in the side-by-side view
    outside = DATA_BLOCK.sub("", page)
    assert "<img src=x" not in outside and "<script>alert" not in outside
    block = DATA_BLOCK.search(page).group(1)
    assert "</script" not in block.lower() and "<" not in block
    rows = json.loads(block)
    assert any(m["content"] == INJECTION for r in rows for m in r["messages"])
    assert {r["step"] for r in rows} == {"mood", "steer", "odd"}
    assert html.escape("demo <study>") in page and html.escape("A <i>test</i> run.") in page


def test_json_block_escapes_line_separators(tmp_path):
    run = make_run(tmp_path / "r", injection="a\u2028b\u2029c & </SCRIPT> <!--")
    block = DATA_BLOCK.search(build_report(run).read_text()).group(1)
    assert "\u2028" not in block and "\u2029" not in block and "&" not in block
    assert any(m["content"] == "a\u2028b\u2029c & </SCRIPT> <!--" for r in json.loads(block) for m in r["messages"])


def test_failed_step_is_flagged(run_dir):
    page = build_report(run_dir).read_text()
    summary = page[page.index('id="summary"'):page.index('id="step-mood"')]
    assert "did not finish" in summary and 'href="#step-broken"' in summary
    broken = _section(page, "broken")
    assert '<span class="badge bad">failed</span>' in broken
    assert html.escape("RuntimeError: boom <b>bad</b>") in broken and "<b>bad</b>" not in page


def test_unknown_type_gets_the_default_section(run_dir):
    odd = _section(build_report(run_dir).read_text(), "odd")
    assert "oddity" in odd and "Example transcripts" in odd and "odd answer" in odd


def test_registered_section_renders_and_a_broken_one_is_contained(run_dir):
    from personascope import registry

    seen: list[StepView] = []

    @section("mystery")
    def mystery(view: StepView) -> str:
        seen.append(view)
        return f"<p class='custom'>{len(view.transcripts)} transcripts, {html.escape(view.metrics[0].name)}</p>"

    @section("contrast", replace=True)
    def boom(view: StepView) -> str:
        raise ValueError("no <good>")

    try:
        page = build_report(run_dir).read_text()
    finally:
        registry.unregister("section", "mystery")
        from personascope.report._contrast import contrast_section

        section("contrast", replace=True)(contrast_section)
    assert "<p class='custom'>1 transcripts, oddity</p>" in _section(page, "odd")
    assert seen[0].id == "odd" and seen[0].entry["status"] == "done" and seen[0].config == {"id": "odd", "type": "mystery"}
    assert "could not be drawn: ValueError: no &lt;good&gt;" in _section(page, "mood")
    assert 'id="step-steer"' in page  # the rest of the report is still there


def test_import_stays_light():
    code = "import sys, personascope.report; print(sorted(m for m in ('matplotlib', 'torch', 'playwright', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cli_report_by_path_and_by_id(run_dir, monkeypatch):
    result = runner.invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(run_dir / "report.html")
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url))
    result = runner.invoke(app, ["report", "demo-2026", "--runs-dir", str(run_dir.parent), "--open"])
    assert result.exit_code == 0, result.output
    assert opened == [(run_dir / "report.html").resolve().as_uri()]


@pytest.mark.parametrize("ref", ["nope", "latest"])
def test_cli_report_of_a_missing_run_is_a_user_error(tmp_path, ref):
    result = runner.invoke(app, ["report", ref, "--runs-dir", str(tmp_path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
