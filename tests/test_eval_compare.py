"""`runs compare` pairs a plain `personascope eval` run with an `eval --compare` run:
the untreated arm of both is one computation, so its metrics pair up and agree."""

import json
import math

from typer.testing import CliRunner

from personascope.cli import app
from personascope.runs import compare_runs
from personascope.store import RunStore

runner = CliRunner()


def _eval(tiny_dir, runs, *extra):
    args = ["eval", "trait", "--model", f"hf/{tiny_dir}", "-T", "trait=evil", "--limit", "2", "--max-tokens", "3",
            "--runs-dir", str(runs), "--new", "--json", *extra]
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout[out.stdout.index("{"):])


def _same(x, y):
    return (x is None and y is None) or (x is not None and y is not None and (x == y or (math.isnan(x) and math.isnan(y))))


def test_runs_compare_pairs_the_plain_arm_of_a_plain_and_a_compare_eval_run(tmp_path, tiny_dir):
    import torch

    from personascope.models import Model
    from personascope.vectors import PersonaVector

    torch.manual_seed(0)
    vec = tmp_path / "vec"
    PersonaVector(torch.randn(Model(f"hf/{tiny_dir}").n_layers(), 64), meta={}).save(vec)
    runs = tmp_path / "runs"
    plain = _eval(tiny_dir, runs)
    compared = _eval(tiny_dir, runs, "--steer", f"{vec}@1:20", "--compare")
    assert list(plain["stats"]) == ["default"] and list(compared["stats"]) == ["plain", "steered"]
    a, b = sorted(p for p in runs.iterdir() if p.is_dir())  # run ids carry their start time

    metrics_a = RunStore(a / "store.sqlite").metrics("eval")
    assert metrics_a and {m.arm for m in metrics_a} <= {"default", "plain"}
    comparison = compare_runs(a, b, all_metrics=True)
    rows = {(r.step, r.name, r.arm): r for r in comparison.rows}
    for m in metrics_a:
        pair = rows[("eval", m.name, "plain")]
        assert pair.a is not None and pair.b is not None, m.name
        assert pair.b.arm == "plain" and pair.model == "model"
        for field in ("value", "ci_low", "ci_high", "n"):
            assert _same(getattr(pair.a, field), getattr(pair.b, field)), (m.name, field)
        assert pair.difference in (None, 0.0)
    # The steered arm and its differences exist in the compare run only.
    steered = [r for r in comparison.rows if r.arm == "steered"]
    assert steered and all(r.a is None and r.b is not None for r in steered)
    assert any(r.name == "trait - plain" for r in steered)

    # The CLI shows the same pairing: the plain arm's headline rows, both sides present.
    out = runner.invoke(app, ["runs", "compare", str(a), str(b), "--json"])
    assert out.exit_code == 0, out.output
    shown = json.loads(out.stdout)["rows"]
    plain_rows = [r for r in shown if r["arm"] == "plain"]
    assert plain_rows and all(r["a_n"] is not None and r["b_n"] is not None for r in plain_rows)
    assert all(_same(r["a_value"], r["b_value"]) for r in plain_rows)
    assert {r["name"] for r in plain_rows} == {m.name for m in metrics_a if m.headline}
