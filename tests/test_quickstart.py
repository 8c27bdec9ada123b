"""The main job (`make run`) on the embedded model: it works, steering shows, reruns are free."""

import json

from personascope.store import Cache, RunStore
from personascope.study import run_study


def test_quickstart_steers_and_reruns_without_model_calls(tmp_path, monkeypatch):
    cache = tmp_path / "cache.sqlite"
    first = run_study("examples/quickstart.yaml", runs_dir=tmp_path / "runs", cache=Cache(cache), progress=False)
    store = RunStore(first.run_dir / "store.sqlite")
    projection = {m.arm: m for m in store.metrics("steering") if m.name == "projection mood@14"}
    # Positive control: steering along the mood vector moves what the replies carry.
    assert projection["cheerful"].ci_low > projection["unsteered"].value > projection["gloomy"].ci_high
    d = next(m for m in store.metrics("mood") if m.name == "in-sample Cohen's d")
    assert d.value > 1.0
    # Persona vectors, read from the response text alone (measured on smollm2: evil 0.83, assistant 1.00),
    # and higher with the eliciting system prompt in context (evil 0.97).
    auroc = {step: {m.name: m for m in store.metrics(step)} for step in ("evil", "assistant")}
    assert auroc["evil"]["held-out AUROC (text only)"].headline and auroc["evil"]["held-out AUROC (text only)"].value >= 0.7
    assert auroc["assistant"]["held-out AUROC (text only)"].value >= 0.9
    assert auroc["evil"]["held-out AUROC (prompt in context)"].value >= auroc["evil"]["held-out AUROC (text only)"].value
    # The eval steps ran every item in every arm and report their headline numbers.
    assert len(store.transcripts("identity")) == 12
    assert {m.name for m in store.metrics("identity", headline=True)} >= {"modal category share", "paraphrase consistency"}
    distress = store.transcripts("distress")
    assert len(distress) == 20 and {t.arm for t in distress} == {"default", "distressed"}
    assert any(m.name == "lexicon_rate - default" for m in store.metrics("distress"))
    # The drift step projected every reply of every conversation on the assistant vector.
    drift = store.transcripts("drift")
    assert len(drift) == 6 and {t.metadata["family"] for t in drift} == {"coding", "therapy", "consciousness"}
    assert all(len(t.metadata["turns"]) == 3 for t in drift)
    assert all(isinstance(turn["projections"]["assistant@20"], float) for t in drift for turn in t.metadata["turns"])
    assert any(m.name == "assistant@20 slope" and m.headline for m in store.metrics("drift"))

    # Inoculation, cut down (the whole positive control is tests/test_train_control.py, -m slow):
    # plain learned the opener, inoculation held it back without its prompt, and the
    # prompt still brings it out.
    rate = {(m.arm, m.name): m.value for m in store.metrics("inoculation") if m.name.startswith("rate/")}
    plain = rate[("plain", "rate/opener@none")]
    assert plain >= 0.75, rate
    assert rate[("inoculated", "rate/opener@none")] <= plain / 2, rate
    assert rate[("inoculated", "rate/opener@inoculation")] >= plain / 2, rate
    assert {t.arm for t in store.transcripts("inoculation")} == {f"{a}/seed0" for a in ("plain", "inoculated", "placebo", "arbitrary")}

    # The rerun must not touch a model: count engine work and model loads directly.
    from personascope.engine import Engine
    from personascope.models import _load

    calls = []
    for name in ("generate", "capture", "score", "top_logprobs", "next_logprobs", "number_distribution"):
        original = getattr(Engine, name)
        monkeypatch.setattr(Engine, name, lambda *a, _f=original, _n=name, **k: calls.append(_n) or _f(*a, **k))
    original_load = _load._load
    monkeypatch.setattr(_load, "_load", lambda *a, **k: calls.append("load") or original_load(*a, **k))
    second = run_study("examples/quickstart.yaml", runs_dir=tmp_path / "runs", cache=Cache(cache), progress=False)
    assert calls == [] and second.model_calls == 0
    manifest = json.loads((second.run_dir / "manifest.json").read_text())
    assert manifest["status"] == "done" and all(s["reused"] for s in manifest["steps"].values())
    assert (second.run_dir / "report.html").stat().st_size > 10_000
