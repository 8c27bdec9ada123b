"""`build_report`: one self-contained `report.html` per run directory."""

import base64
import hashlib
from importlib import resources
from pathlib import Path

from personascope._files import atomic_write
from personascope.report._html import Html, join, note, seconds, status_badge, tag
from personascope.report._registry import StepView, renderer_for
from personascope.report._summary import cache_text, summary
from personascope.report._transcripts import browser
from personascope.store import STORE_NAME, RunStore
from personascope.study._manifest import read_manifest

REPORT = "report.html"


def _asset(name: str) -> str:
    return (resources.files("personascope.report") / "assets" / name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def step_views(manifest: dict, run_dir: Path, transcripts: list, metrics: list, artifacts: list) -> list[StepView]:
    configs = {s.get("id"): s for s in (manifest.get("config") or {}).get("steps") or []}
    entries = manifest.get("steps") or {}
    views = []
    for step_id in manifest.get("step_order") or list(entries):
        entry = entries.get(step_id) or {}
        config = configs.get(step_id) or {}
        views.append(StepView(
            id=step_id, type=entry.get("type") or config.get("type") or "?", config=config, entry=entry, run_dir=run_dir,
            transcripts=[t for t in transcripts if t.step == step_id],
            metrics=[m for m in metrics if m.step == step_id],
            artifacts=[a for a in artifacts if a.step == step_id],
        ))
    return views


def step_section(view: StepView) -> Html:
    """The step's own header (status, time, cache, error) around its type's renderer."""
    e = view.entry
    status = e.get("status") or "unknown"
    facts = [
        status_badge(status),
        f"time {seconds(e['seconds'])}" if "seconds" in e else "",
        f"cache {cache_text(e['cache'])}" if e.get("cache") else "",
        f"{e['model_calls']} model calls" if "model_calls" in e else "",
        f"{e['attempts']} attempts" if (e.get("attempts") or 1) > 1 else "",
        join(["after ", join([tag("a", n, href=f"#step-{n}") for n in e["needs"]], sep=", ")]) if e.get("needs") else "",
    ]
    problem = Html("")
    if e.get("error"):
        problem = note(tag("strong", f"Step {status}: "), tag("code", e["error"]), kind="bad")
    elif status in ("failed", "interrupted"):
        problem = note(tag("strong", f"Step {status}."), kind="bad")
    if status == "pending" and not (view.transcripts or view.metrics or view.artifacts):
        body = tag("p", "This step has not run.", class_="muted")
    else:
        try:
            body = Html(renderer_for(view.type)(view))
        except Exception as exc:  # one broken renderer must not cost the whole report
            body = note(f"The {view.type} section could not be drawn: {type(exc).__name__}: {exc}", kind="bad")
    return tag(
        "section",
        tag("h2", view.id, tag("span", view.type, class_="type")),
        tag("div", *(tag("span", f) for f in facts if f), class_="stepmeta"),
        problem,
        body,
        id=f"step-{view.id}", class_="step",
    )


def render(run_dir: Path) -> str:
    """The report of `run_dir` as one HTML document (nothing written)."""
    manifest = read_manifest(run_dir)
    store = RunStore(run_dir / STORE_NAME)
    transcripts, metrics = store.transcripts(), store.metrics()
    views = step_views(manifest, run_dir, transcripts, metrics, store.artifacts())
    order = {v.id: i for i, v in enumerate(views)}
    css, js = _asset("report.css"), _asset("report.js")
    # Only the report's own script may run, and nothing may be fetched: a defence
    # in depth behind the escaping, and a check that the page is offline. Inline
    # styles stay allowed so plugin sections may use `style=`; without network
    # access CSS cannot send anything anywhere.
    csp = (
        f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src '{_sha256(js)}'; "
        "base-uri 'none'; form-action 'none'"
    )
    nav = tag("nav", tag("a", "Summary", href="#summary"), *(tag("a", v.id, href=f"#step-{v.id}") for v in views), tag("a", "Transcripts", href="#transcripts"))
    title = f"{manifest.get('study') or 'run'} · {manifest.get('run_id') or run_dir.name} · personascope report"
    version = (manifest.get("versions") or {}).get("personascope", "")
    body = join([
        nav,
        tag(
            "main",
            summary(manifest, views, [m for m in metrics if m.headline]),
            *(step_section(v) for v in views),
            browser(sorted(transcripts, key=lambda t: order.get(t.step, len(order)))),
            tag("footer", f"personascope {version} · run directory ", tag("code", str(run_dir))),
        ),
    ])
    head = join([
        Html('<meta charset="utf-8">'),
        tag("meta", http_equiv="Content-Security-Policy", content=csp),
        tag("meta", name="viewport", content="width=device-width, initial-scale=1"),
        tag("title", title),
        Html(f"<style>{css}</style>"),
    ])
    return f'<!DOCTYPE html>\n<html lang="en">\n<head>{head}</head>\n<body>{body}\n<script>{js}</script>\n</body>\n</html>\n'


def build_report(run_dir: str | Path) -> Path:
    """Write `run_dir/report.html` (atomically) and return its path.

    One file with its style, script, figures and data inside: it opens offline and
    can be mailed or archived as is. Rebuilding is cheap and never touches the run.
    """
    run_dir = Path(run_dir)
    # Lone surrogates in model text cannot be encoded; they become U+FFFD, not an error.
    data = render(run_dir).encode("utf-8", "replace")
    atomic_write(run_dir / REPORT, data, prefix=".report-")
    return run_dir / REPORT
