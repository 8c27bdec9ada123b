"""The top of the report: what ran, how it ended, with what, and its headline numbers."""

from personascope.report._default import metrics_table
from personascope.report._html import Html, dl, join, note, seconds, short_hash, status_badge, table, tag, when
from personascope.report._registry import StepView
from personascope.store import Metric

_BAD = ("failed", "interrupted")


def step_link(step_id: str) -> Html:
    return tag("a", step_id, href=f"#step-{step_id}")


def cache_text(counts: dict | None) -> str:
    if not counts:
        return "—"
    return f"{counts.get('hits', 0)} hits, {counts.get('misses', 0)} misses"


def problems(manifest: dict, views: list[StepView]) -> Html:
    """Failed or interrupted steps (and a run still going) flagged before anything else."""
    status = manifest.get("status")
    out = []
    bad = [v for v in views if v.entry.get("status") in _BAD]
    if bad:
        items = [tag("li", step_link(v.id), f" {v.entry['status']}", ": " if v.entry.get("error") else "", tag("code", v.entry.get("error") or "")) for v in bad]
        out.append(note(tag("strong", f"{len(bad)} step{'s' if len(bad) > 1 else ''} did not finish."), tag("ul", *items), kind="bad"))
    elif status in _BAD:
        out.append(note(tag("strong", f"The run is {status}."), " Steps after the last finished one did not run.", kind="bad"))
    if status == "running":
        out.append(note("This report was built while the run was still going; rebuild it when the run ends.", kind="warn"))
    return join(out)


def models_table(manifest: dict) -> Html:
    """Each model alias with the fingerprints (weights, tokenizer hashes) recorded when it loaded."""
    described = manifest.get("models") or {}
    configured = (manifest.get("config") or {}).get("models") or {}
    rows = []
    for alias in dict.fromkeys([*configured, *described]):
        info = described.get(alias) or {}
        name = info.get("name") or (configured.get(alias) or {}).get("name") or ""
        prints = [
            join([tag("span", key, class_="k"), " ", short_hash(",".join(map(str, value)) if isinstance(value, list) else value)])
            for key, value in info.items() if key not in ("name", "device", "dtype") and value
        ]
        fingerprint = join(prints, sep=" · ") if prints else tag("span", "not loaded in this run", class_="muted")
        rows.append([alias, name, info.get("device", "—"), info.get("dtype", "—"), fingerprint])
    if not rows:
        return tag("p", "No models.", class_="muted")
    return table(["alias", "model", "device", "dtype", "fingerprint"], rows)


def steps_table(views: list[StepView]) -> Html:
    rows = [
        [step_link(v.id), v.type, status_badge(v.entry.get("status")), seconds(v.entry.get("seconds")),
         cache_text(v.entry.get("cache")), v.entry.get("model_calls", "—")]
        for v in views
    ]
    return table(["step", "type", "status", "time", "cache", "model calls"], rows, numeric=(3, 5))


def summary(manifest: dict, views: list[StepView], headline: list[Metric]) -> Html:
    git = manifest.get("git") or {}
    versions = manifest.get("versions") or {}
    facts = [
        ("status", status_badge(manifest.get("status"))),
        ("created", when(manifest.get("created"))),
        ("finished", when(manifest.get("finished"))),
        ("total time", seconds(manifest.get("seconds"))),
        ("seed", manifest.get("seed", "—")),
        ("cache", cache_text(manifest.get("cache")) if (manifest.get("cache") or {}).get("enabled", True) else "disabled"),
        ("git", join([short_hash(git["sha"]), " (uncommitted changes)" if git.get("dirty") else ""]) if git.get("sha") else "—"),
        ("platform", versions.get("platform", "—")),
    ]
    if manifest.get("config_file") or manifest.get("config_hash"):
        facts.insert(-1, ("config", join([tag("code", manifest.get("config_file") or "inline"), " · hash ", tag("code", manifest.get("config_hash") or "—")])))
    if manifest.get("resumed"):
        facts.insert(4, ("resumed", f"{manifest['resumed']} time(s)"))
    chips = [tag("span", tag("span", k, class_="k"), " ", v, class_="chip") for k, v in versions.items() if k != "platform"]
    return tag(
        "section",
        tag("h1", manifest.get("study") or manifest.get("run_id") or "run", " ", status_badge(manifest.get("status"))),
        tag("p", tag("code", manifest.get("run_id") or ""), class_="muted"),
        tag("p", (manifest.get("description") or "").strip(), class_="description") if manifest.get("description") else "",
        problems(manifest, views),
        tag("div", dl(facts), class_="facts"),
        tag("h3", "Headline metrics"),
        metrics_table(headline, step=True) if headline else tag("p", "No headline metrics.", class_="muted"),
        tag("h3", "Steps"), steps_table(views),
        tag("h3", "Models"), models_table(manifest),
        tag("h3", "Versions"), tag("p", *chips, class_="chips"),
        id="summary",
    )
