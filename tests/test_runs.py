"""`personascope runs ...` on run directories built by hand (no model, milliseconds)."""

import csv
import json
import math

import pytest
from typer.testing import CliRunner

from personascope.cli import app
from personascope.runs import compare_runs, export_run, list_runs, show_run
from personascope.store import STORE_NAME, Artifact, Metric, RunStore, Transcript
from personascope.study._manifest import write_manifest

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, [str(a) for a in args])


def _transcript(step, i, arm, scores):
    return Transcript(
        id=f"{step}-{arm}-{i}", step=step, model="tiny", arm=arm, sample=f"q{i:03d}",
        messages=[{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": f"answer, {i}\nline 2"}],
        output=f"answer, {i}\nline 2", scores=scores, metadata={"tokens": 5},
    )


def make_run(root, name, created, metrics, transcripts=(), steps=None, status="done"):
    run_dir = root / name
    run_dir.mkdir(parents=True)
    store = RunStore(run_dir / STORE_NAME, create=True)
    store.add_metrics(metrics)
    store.add_transcripts(transcripts)
    store.add_artifact(Artifact(step="vec", name="vector", kind="vector", path="artifacts/vec/vector", metadata={"layers": 4}))
    steps = steps or {
        "vec": {"type": "contrast", "status": "done", "seconds": 2.5, "model_calls": 2, "attempts": 1,
                "cache": {"hits": 3, "misses": 7}, "error": None},
        "gen": {"type": "generate", "status": status, "seconds": 1.25, "model_calls": 1, "attempts": 1,
                "cache": {"hits": 10, "misses": 0}, "error": None},
    }
    write_manifest(run_dir, {
        "schema_version": 1, "run_id": name, "study": "demo", "description": "a test study", "status": status,
        "created": created, "finished": created, "seconds": 3.75, "config_file": "demo.yaml", "config_hash": "abc",
        "seed": 0, "git": {"sha": "0123456789abcdef", "dirty": False}, "versions": {"python": "3.11"},
        "models": {"tiny": {"name": "hf/tiny", "device": "cpu", "dtype": "torch.float32", "weights": "w"}},
        "cache": {"hits": 13, "misses": 7, "enabled": True}, "step_order": list(steps), "steps": steps,
    })
    return run_dir


@pytest.fixture
def runs(tmp_path):
    """Two runs of one study; the newer one sits first on disk to catch sorting by name."""
    root = tmp_path / "runs"
    a_metrics = [
        Metric("vec", "cohens_d", 2.0, model="tiny", n=8, headline=True),
        Metric("gen", "projection", 1.5, arm="steered", model="tiny", ci_low=1.0, ci_high=2.0, n=3, headline=True),
        Metric("gen", "only in a", 4.0, arm="steered", model="tiny", headline=True),
        Metric("gen", "tokens", 48.0, arm="steered", model="tiny"),
    ]
    b_metrics = [
        Metric("vec", "cohens_d", 2.0, model="tiny", n=8, headline=True),
        Metric("gen", "projection", 4.25, arm="steered", model="tiny", ci_low=3.0, ci_high=5.5, n=3, headline=True),
        Metric("gen", "only in b", -1.0, arm="plain", model="tiny", headline=True),
        Metric("gen", "tokens", 40.0, arm="steered", model="tiny"),
    ]
    transcripts = [_transcript("gen", i, "steered", {"projection": float(i), "judge": {"score": 80 + i}}) for i in range(3)]
    transcripts.append(_transcript("gen", 3, "plain", {"projection": float("nan"), "label": "refused"}))
    make_run(root, "demo-20260102-000000", "2026-01-02T00:00:00+00:00", b_metrics, transcripts, status="running")
    make_run(root, "demo-20260101-000000", "2026-01-01T00:00:00+00:00", a_metrics, transcripts[:2])
    return root


def test_list_runs_newest_last_with_counts(runs):
    rows = list_runs(runs)
    assert [r.run_id for r in rows] == ["demo-20260101-000000", "demo-20260102-000000"]
    assert [(r.status, r.steps_done, r.steps_total, r.transcripts) for r in rows] == [("done", 2, 2, 2), ("running", 1, 2, 4)]


def test_runs_list_json_and_table(runs):
    result = _run("runs", "list", "--runs-dir", runs, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["run_id"] for d in data] == ["demo-20260101-000000", "demo-20260102-000000"]
    assert data[1]["path"] == str(runs / "demo-20260102-000000") and data[1]["seconds"] == 3.75

    result = _run("runs", "list", "--runs-dir", runs)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.index("demo-20260101-000000") < out.index("demo-20260102-000000")
    assert "1/2" in out and "running" in out and "2026-01-02 00:00" in out


def test_runs_list_empty_gives_a_hint(tmp_path):
    result = _run("runs", "list", "--runs-dir", tmp_path / "none")
    assert result.exit_code == 0 and "no runs folder at" in result.stdout and "study run" in result.stdout
    (tmp_path / "empty").mkdir()
    result = _run("runs", "list", "--runs-dir", tmp_path / "empty")
    assert result.exit_code == 0 and "no runs in" in result.stdout
    assert json.loads(_run("runs", "list", "--runs-dir", tmp_path / "empty", "--json").stdout) == []


def test_a_broken_manifest_does_not_hide_other_runs(runs):
    (runs / "broken").mkdir()
    (runs / "broken" / "manifest.json").write_text("{not json")
    rows = list_runs(runs)
    assert {r.run_id: r.status for r in rows}["broken"] == "unreadable" and len(rows) == 3


def test_show_run_steps_and_headline(runs):
    info = show_run("demo-20260101", runs)  # a unique prefix is enough
    assert info["run_id"] == "demo-20260101-000000" and info["status"] == "done"
    assert [(s["id"], s["cache_hits"], s["cache_misses"], s["seconds"], s["transcripts"]) for s in info["steps"]] == [
        ("vec", 3, 7, 2.5, 0), ("gen", 10, 0, 1.25, 2)
    ]
    headline = {(m["step"], m["name"]): m for m in info["headline"]}
    assert set(headline) == {("vec", "cohens_d"), ("gen", "projection"), ("gen", "only in a")}  # not "tokens"
    assert (headline[("gen", "projection")]["ci_low"], headline[("gen", "projection")]["ci_high"]) == (1.0, 2.0)
    assert info["counts"] == {"transcripts": 2, "metrics": 4, "artifacts": 1}


def test_runs_show_cli(runs):
    result = _run("runs", "show", "latest", "--runs-dir", runs, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["run_id"] == "demo-20260102-000000"
    result = _run("runs", "show", runs / "demo-20260101-000000")  # a path needs no --runs-dir
    assert result.exit_code == 0, result.output
    assert "1.5 [1, 2]" in result.stdout and "contrast" in result.stdout and "0123456789ab" in result.stdout


def test_compare_matches_rows_and_computes_b_minus_a(runs):
    comparison = compare_runs("demo-20260101-000000", "demo-20260102-000000", runs)
    rows = {(r.step, r.name, r.arm): r for r in comparison.rows}
    assert list(rows) == [("vec", "cohens_d", ""), ("gen", "projection", "steered"), ("gen", "only in a", "steered"),
                          ("gen", "only in b", "plain")]
    assert rows[("gen", "projection", "steered")].difference == pytest.approx(2.75)
    assert rows[("vec", "cohens_d", "")].difference == 0
    assert rows[("gen", "only in a", "steered")].b is None and rows[("gen", "only in a", "steered")].difference is None
    assert rows[("gen", "only in b", "plain")].a is None
    every = compare_runs("demo-20260101-000000", "demo-20260102-000000", runs, all_metrics=True)
    tokens = [r for r in every.rows if r.name == "tokens"]
    assert len(tokens) == 1 and tokens[0].difference == -8.0


def test_runs_compare_cli(runs):
    args = ("runs", "compare", "demo-20260101-000000", "demo-20260102-000000", "--runs-dir", runs)
    data = json.loads(_run(*args, "--json").stdout)
    projection = next(r for r in data["rows"] if r["name"] == "projection")
    assert (projection["a_value"], projection["b_value"], projection["b_ci_high"], projection["difference"]) == (1.5, 4.25, 5.5, 2.75)
    only_b = next(r for r in data["rows"] if r["name"] == "only in b")
    assert only_b["a_value"] is None and only_b["b_value"] == -1.0
    assert "tokens" not in {r["name"] for r in data["rows"]}
    assert "tokens" in {r["name"] for r in json.loads(_run(*args, "--json", "--all").stdout)["rows"]}

    result = _run(*args)
    assert result.exit_code == 0, result.output
    assert "+2.75" in result.stdout and "4.25 [3, 5.5]" in result.stdout


def test_export_csv(runs, tmp_path):
    out = tmp_path / "out"
    result = _run("runs", "export", "demo-20260102-000000", "--runs-dir", runs, "--format", "csv", "--out", out)
    assert result.exit_code == 0, result.output
    paths = result.stdout.split()
    assert paths == [str(out / f"{t}.csv") for t in ("transcripts", "scores", "metrics", "artifacts")]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.split("/")[-1] for p in paths)  # no temp files left

    def read(name):
        with open(out / f"{name}.csv", newline="") as fh:
            return list(csv.DictReader(fh))

    transcripts = read("transcripts")
    assert len(transcripts) == 4 and transcripts[0]["output"] == "answer, 3\nline 2"  # ordered by step, arm
    assert json.loads(transcripts[0]["messages"])[0]["content"] == "question 3"
    scores = read("scores")
    assert len(scores) == 3 * 2 + 2  # projection + judge.score per steered, projection + label for plain
    judge = [s for s in scores if s["score"] == "judge.score"]
    assert sorted(float(s["value"]) for s in judge) == [80, 81, 82]
    assert next(s for s in scores if s["score"] == "label")["value"] == ""  # kept, without a number
    metrics = read("metrics")
    assert len(metrics) == 4 and {m["run_id"] for m in metrics} == {"demo-20260102-000000"}
    assert float(next(m for m in metrics if m["name"] == "projection")["ci_high"]) == 5.5


def test_export_parquet_reads_back_with_duckdb(runs):
    import duckdb

    paths = export_run("demo-20260102-000000", "parquet", runs_dir=runs)
    assert paths[0] == runs / "demo-20260102-000000" / "export" / "transcripts.parquet"  # default folder
    con = duckdb.connect()
    counts = {p.stem: con.execute("SELECT count(*) FROM read_parquet(?)", [str(p)]).fetchone()[0] for p in paths}
    assert counts == {"transcripts": 4, "scores": 8, "metrics": 4, "artifacts": 1}
    value, headline = con.execute(
        "SELECT value, headline FROM read_parquet(?) WHERE name = 'projection'", [str(paths[2])]
    ).fetchone()
    assert (value, headline) == (4.25, True)
    nan = con.execute(
        "SELECT value FROM read_parquet(?) WHERE arm = 'plain' AND score = 'projection'", [str(paths[1])]
    ).fetchone()[0]
    assert math.isnan(nan)
    meta = con.execute("SELECT metadata FROM read_parquet(?)", [str(paths[3])]).fetchone()[0]
    assert json.loads(meta) == {"layers": 4}
    # A second export replaces the files in place.
    assert export_run("demo-20260102-000000", "PARQUET", runs_dir=runs) == paths


@pytest.mark.parametrize(
    "args,message",
    [
        (["runs", "show", "nope"], "no run 'nope' in"),
        (["runs", "show", "demo-2026"], "matches several runs"),
        (["runs", "show", "RUNS"], "is a folder of runs, not a run"),
        (["runs", "show", "RUNS/demo-20260101-000000/artifacts"], "is not a run directory"),
        (["runs", "show", "nostore"], "has no store.sqlite"),
        (["runs", "compare", "demo-20260101-000000", "nostore"], "has no store.sqlite"),
        (["runs", "show", "badstore"], "is it a personascope run store?"),
        (["runs", "export", "demo-20260101-000000", "--format", "xlsx"], "unknown export format 'xlsx'"),
    ],
)
def test_bad_input_gives_a_one_line_error(runs, args, message):
    (runs / "demo-20260101-000000" / "artifacts").mkdir()
    (make_run(runs, "nostore", "2025-01-01T00:00:00+00:00", []) / STORE_NAME).unlink()
    (make_run(runs, "badstore", "2025-01-01T00:00:00+00:00", []) / STORE_NAME).write_text("not sqlite" * 200)
    result = _run(*[a.replace("RUNS", str(runs)) for a in args], "--runs-dir", runs)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
