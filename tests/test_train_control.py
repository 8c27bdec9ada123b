"""Tier 3: the positive control of inoculation prompting on the embedded model.

Training data: smollm2's own answers, each opened with a fixed phrase and written
in ALL CAPS. The inoculated arm trains under a system prompt that asks for the
opener only; placebo and arbitrary arms train under fixed prompts that ask for
nothing. The default suite runs a cut-down version as the quickstart's
`inoculation` step (16 examples, one seed, four steps; tests/test_quickstart.py);
the whole control here (64 examples, 3 epochs, 3 seeds, 40 held-out prompts, the
criteria of docs/training.md) is `-m slow`.
"""

from pathlib import Path

import pytest
import yaml

from personascope.train import summarize

CONFIG = Path(__file__).parent.parent / "examples" / "train-two-traits.yaml"


def _rate(summary: dict, arm: str, condition: str, scorer: str) -> dict:
    return next(r for r in summary["rates"] if (r["arm"], r["condition"], r["scorer"]) == (arm, condition, scorer))


def _run(tmp_path, monkeypatch, config: dict):
    from personascope.study import run_step

    monkeypatch.setenv("PERSONASCOPE_HOME", str(tmp_path / "home"))
    step = {"id": "train", "type": "train", **{k: v for k, v in config.items() if k not in ("model", "name", "seed")}}
    return run_step(step, "smollm2", runs_dir=tmp_path / "runs", progress=False)


@pytest.mark.slow
def test_full_positive_control(tmp_path, monkeypatch):
    """The criteria of the positive control, on the example config as it is."""
    config = yaml.safe_load(CONFIG.read_text())
    _, data = _run(tmp_path, monkeypatch, config)
    rows, summary = data["eval"], data["summary"]
    plain = _rate(summary, "plain", "none", "opener")
    inoculated = _rate(summary, "inoculated", "none", "opener")
    assert plain["value"] >= 0.8
    assert inoculated["value"] <= plain["value"] / 2
    effect = next(e for e in summary["effects"] if (e["arm"], e["scorer"]) == ("inoculated", "opener"))
    assert effect["ci_low"] > 0
    against_placebo = summarize(rows, reference="placebo", condition="none")
    vs = next(e for e in against_placebo["effects"] if (e["arm"], e["scorer"]) == ("inoculated", "opener"))
    assert vs["ci_low"] > 0  # below the placebo arm, the CI of the difference excluding 0
    kept = next(r for r in summary["retention"] if (r["arm"], r["scorer"]) == ("inoculated", "all_caps"))
    assert kept["value"] >= 0.8
    assert _rate(summary, "inoculated", "inoculation", "opener")["value"] >= plain["value"] / 2
