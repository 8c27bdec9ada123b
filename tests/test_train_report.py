"""The `train` report section on a hand-built run directory: the headline table with
CIs, effects and retention, the monitor figure, and model text that stays text."""

import json
import random

from personascope.report import build_report
from personascope.store import STORE_NAME, Artifact, RunStore
from personascope.study._manifest import write_manifest
from personascope.train import plot_monitor, summarize

INJECTION = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def _monitor_rows(rate: float) -> list[dict]:
    return [
        {"global_step": k, "epoch": k / 4, "loss": None if k == 0 else 3.0 - rate * k / 4, "adapter_norm": 0.1 * k,
         "update_cosine": None if k < 4 else 0.5, "scores": {"opener": min(100.0, rate * 25 * k)},
         "projection": {"v@2": 1.0 + k * rate}, "projection_shift": {"v@2": k * rate}}
        for k in (0, 2, 4, 6)
    ]


def _eval_rows() -> list[dict]:
    rng = random.Random(0)
    rows = []
    for arm, rate in (("plain", 0.9), ("inoculated", 0.1)):
        for seed in (0, 1):
            for cond in ("none", "training"):
                for j in range(6):
                    answer = INJECTION if (arm, seed, cond, j) == ("plain", 0, "none", 0) else f"answer {j}"
                    hit = rng.random() < (rate if cond == "none" else 0.9)
                    rows.append({"arm": arm, "seed": seed, "condition": cond, "prompt_id": f"q{j:03d}", "sample": 0,
                                 "messages": [{"role": "user", "content": f"question {j} <b>?"}], "answer": answer,
                                 "scores": {"opener": 100.0 if hit else 0.0, "all_caps": 100.0}})
    return rows


def make_train_run(run_dir):
    run_dir.mkdir(parents=True)
    rows = _eval_rows()
    data = {
        "model": "tiny",
        "arms": {"plain": {"context": {}}, "inoculated": {"context": {"system": "You always open with a <phrase>."}, "kl": 0.1}},
        "models": {"plain": {"0": "run:x/lab/plain/seed0/model", "1": "run:x/lab/plain/seed1/model"},
                   "inoculated": {"0": "run:x/lab/inoculated/seed0/model", "1": "run:x/lab/inoculated/seed1/model"}},
        "monitor": {"plain": {"0": _monitor_rows(1.0), "1": _monitor_rows(0.8)}, "inoculated": {"0": _monitor_rows(0.2), "1": _monitor_rows(0.1)}},
        "eval": rows,
        "summary": summarize(rows, n_boot=200),
    }
    (run_dir / "artifacts" / "lab").mkdir(parents=True)
    (run_dir / "artifacts" / "lab" / "result-tiny.json").write_text(json.dumps(data))
    store = RunStore(run_dir / STORE_NAME, create=True)
    store.add_artifact(Artifact("lab", "result", "json", "artifacts/lab/result-tiny.json", {}))
    steps = [{"id": "lab", "type": "train"}]
    write_manifest(run_dir, {
        "schema_version": 1, "run_id": run_dir.name, "study": "lab", "description": "", "config": {"name": "lab", "steps": steps},
        "status": "done", "created": "2026-01-01T00:00:00+00:00", "finished": "2026-01-01T00:01:00+00:00", "seconds": 60.0,
        "versions": {"python": "3.11", "personascope": "0.1.0", "platform": "Linux"}, "git": {"sha": "abc", "dirty": False},
        "seed": 0, "models": {"tiny": {"name": "hf/tiny"}}, "cache": {"enabled": True, "hits": 0, "misses": 0}, "step_order": ["lab"],
        "steps": {"lab": {"type": "train", "status": "done", "seconds": 1.0, "cache": {"hits": 0, "misses": 0}, "model_calls": 0, "error": None}},
    })
    return run_dir, data


def test_train_section_has_the_table_the_figure_and_escapes_answers(tmp_path):
    run_dir, data = make_train_run(tmp_path / "lab-20260101-000000")
    page = build_report(run_dir).read_text()
    start = page.index('<section id="step-lab"')
    body = page[start : page.index("</section>", start)]
    assert "could not be drawn" not in body
    assert "Trait rate per arm and condition" in body and "Effect: plain minus arm" in body and "Retention" in body
    plain = next(r for r in data["summary"]["rates"] if (r["arm"], r["condition"], r["scorer"]) == ("plain", "none", "opener"))
    assert f"{plain['value']:.3g}" in body
    assert body.count('src="data:image/png;base64,') == 1
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "question 0 &lt;b&gt;?" in body and "open with a &lt;phrase&gt;" in body
    assert "run:x/lab/inoculated/seed1/model" in body


def test_plot_monitor_writes_a_png(tmp_path):
    monitor = {"plain": {0: _monitor_rows(1.0), 1: _monitor_rows(0.5)}, "inoculated $x": {0: _monitor_rows(0.1)}}
    path = plot_monitor(monitor, tmp_path / "figs" / "monitor.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_means_and_shifts_from_the_base_model_are_shown():
    from personascope.report._train import train_result

    rows = [r for r in _eval_rows() if r["condition"] == "none" and r["arm"] == "plain"]
    base = [{**r, "arm": "base", "seed": 0, "scores": {"opener": 0.0, "all_caps": 0.0}} for r in rows if r["seed"] == 0]
    for r in rows + base:
        r["projections"] = {"evil@20": 1.0 if r["arm"] == "base" else 4.5}
    summary = summarize(rows + base, n_boot=100)
    body = str(train_result({"eval": rows + base, "summary": summary}))
    assert "Mean score and projection per arm and condition" in body and "Shift from the base model" in body
    shift = next(s for s in summary["shifts"] if s["measure"] == "evil@20")
    assert shift["value"] == 3.5 and "3.5" in body
