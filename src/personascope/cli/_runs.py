"""`personascope runs ...`: thin layers over `personascope.runs`."""

import json
import math
from datetime import datetime, timezone
from pathlib import Path

import typer

from personascope.cli._common import console

app = typer.Typer(help="Runs on disk: list, show, compare and export them.", no_args_is_help=True)

_RUN = typer.Argument(..., help="A run directory, a run id (or a unique prefix of one), or 'latest'.")
_RUNS_DIR = typer.Option(None, "--runs-dir", help="Folder of runs (default: $PERSONASCOPE_RUNS or ./runs).")
_JSON = typer.Option(False, "--json", help="Print JSON.")
_STATUS_STYLE = {"done": "green", "running": "yellow", "pending": "dim", "failed": "red", "interrupted": "red", "unreadable": "red"}


def _text(value, style: str = ""):
    # Every cell as literal text: names from configs must not be read as rich markup.
    from rich.text import Text

    return Text("" if value is None else str(value), style=style)


def _status(status: str | None, run: bool = False):
    # An interrupted run is not lost: `study run` on its config picks it up again.
    label = "interrupted (rerun to resume)" if run and status == "interrupted" else status
    return _text(label, _STATUS_STYLE.get(status or "", ""))


def _num(value: float | None, sign: bool = False) -> str:
    if value is None:
        return ""
    if math.isnan(value):
        return "n/a"
    return f"{value:+.4g}" if sign and value != 0 else f"{value:.4g}"


def _with_ci(value: float | None, low: float | None, high: float | None) -> str:
    text = _num(value)
    if low is not None and high is not None:
        text += f" [{low:.3g}, {high:.3g}]"
    return text


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes < 60 else f"{minutes // 60}h {minutes % 60:02d}m"


def _when(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        stamp = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(timezone.utc)
    return stamp.strftime("%Y-%m-%d %H:%M")


def _table(*columns, title: str | None = None):
    # Light rules and narrow gaps: six or seven columns still fit an 80-column terminal.
    from rich import box
    from rich.table import Table

    return Table(
        *columns, title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
        padding=(0, 1, 0, 0),
    )


def _print_json(data) -> None:
    print(json.dumps(data, indent=2, allow_nan=True, default=str))


@app.command("list")
def list_command(runs_dir: Path = _RUNS_DIR, as_json: bool = _JSON) -> None:
    """Every run in the runs folder, newest last."""
    from rich.table import Column

    from personascope.runs import list_runs
    from personascope.study._runner import default_runs_dir

    runs = list_runs(runs_dir)
    if as_json:
        _print_json([r.to_dict() for r in runs])
        return
    if not runs:
        root = runs_dir if runs_dir is not None else default_runs_dir()
        where = f"no runs in {root} yet" if root.is_dir() else f"no runs folder at {root} yet"
        console.print(
            f"{where}: run a study (personascope study run CONFIG), or point --runs-dir or "
            "$PERSONASCOPE_RUNS at a folder of runs.",
            markup=False, highlight=False,
        )
        return
    # Run ids never wrap: they are what users copy into `runs show`. The study is
    # left out because run ids start with it (`--json` has it).
    table = _table(Column("run", no_wrap=True), "status", "created (UTC)", "time", "steps", "transcripts")
    for r in runs:
        table.add_row(
            _text(r.run_id), _status(r.status), _text(_when(r.created)), _text(_duration(r.seconds)),
            _text(f"{r.steps_done}/{r.steps_total}"), _text("" if r.transcripts is None else r.transcripts),
        )
    console.print(table)
    # Under the table, not in it: the longer label would wrap every column at 80.
    stopped = [r.run_id for r in runs if r.status == "interrupted"]
    if stopped:
        console.print(_text(
            f"interrupted (rerun to resume): {', '.join(stopped)}: its process stopped; run its config again "
            "(personascope study run CONFIG) to pick it up where it stopped", "red"))


def _metric_table(keys: list[dict], headers: list[str], rows: list[list], title: str = ""):
    """Metrics keyed by step, name, arm and model; a model column only when models differ."""
    models = {k["model"] for k in keys}
    one_model = len(models) == 1
    model = next(iter(models)) if one_model else ""
    if model:
        title = f"{title} (model {model})" if title else f"model {model}"
    table = _table("step", "metric", "arm", *([] if one_model else ["model"]), *headers, title=title or None)
    for key, values in zip(keys, rows):
        model = [] if one_model else [key["model"]]
        table.add_row(*map(_text, [key["step"], key["name"], key["arm"], *model, *values]))
    return table


@app.command("show")
def show_command(run: str = _RUN, runs_dir: Path = _RUNS_DIR, as_json: bool = _JSON) -> None:
    """One run: config, versions, each step's status, timing and cache use, headline metrics."""
    from rich.table import Table

    from personascope.runs import show_run

    info = show_run(run, runs_dir)
    if as_json:
        _print_json(info)
        return
    git = info["git"] or {}
    models = "; ".join(f"{alias}: {m['name']} on {m['device']}, {m['dtype']}" for alias, m in info["models"].items())
    cache = info["cache"]
    counts = info["counts"]
    lines = [
        ("study", f"{info['study']}: {info['description']}" if info["description"] else info["study"]),
        ("path", info["path"]),
        ("created", f"{_when(info['created'])} UTC, took {_duration(info['seconds'])}"
            + (f", resumed {info['resumed']}x" if info["resumed"] else "")),
        ("config", f"{info['config_file']} (hash {info['config_hash']}), seed {info['seed']}"),
        ("git", f"{git['sha'][:12]}{' (uncommitted changes)' if git.get('dirty') else ''}" if git.get("sha") else "not a git checkout"),
        ("models", models or "none loaded"),
        ("cache", f"{cache.get('hits', 0)} hits, {cache.get('misses', 0)} misses" if cache.get("enabled", True) else "disabled"),
        ("stored", f"{counts['transcripts']} transcripts, {counts['metrics']} metrics, {counts['artifacts']} artifacts"),
        ("report", info["report"] or "not written"),
    ]
    head = _text(info["run_id"], "bold")
    head.append("  ")
    head.append_text(_status(info["status"], run=True))
    console.print(head)
    # A grid, so a long description wraps under its value column, not at the margin.
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for key, value in lines:
        grid.add_row(_text(f"  {key}"), _text(value))
    console.print(grid)
    steps = _table("step", "type", "status", "time", "cached", "computed", "model calls", "transcripts", title="steps")
    for s in info["steps"]:
        steps.add_row(
            _text(s["id"]), _text(s["type"]), _status(s["status"]), _text(_duration(s["seconds"])),
            _text(s["cache_hits"]), _text(s["cache_misses"]), _text(s["model_calls"]), _text(s["transcripts"]),
        )
    console.print(steps)
    for s in info["steps"]:
        if s["error"]:
            console.print(_text(f"step {s['id']} failed: {s['error']}", "red"))
    if info["headline"]:
        rows = [[_with_ci(m["value"], m["ci_low"], m["ci_high"]), m["n"]] for m in info["headline"]]
        console.print(_metric_table(info["headline"], ["value [CI]", "n"], rows, "headline metrics"))
    else:
        console.print(_text("no headline metrics yet", "dim"))


@app.command("compare")
def compare_command(
    a: str = typer.Argument(..., help="Run A: a run directory, run id (or prefix) or 'latest'."),
    b: str = typer.Argument(..., help="Run B, compared against A (difference = B - A)."),
    runs_dir: Path = _RUNS_DIR,
    all_metrics: bool = typer.Option(False, "--all", help="Every metric, not only headline ones."),
    as_json: bool = _JSON,
) -> None:
    """Two runs' metrics side by side, matched on step, metric, arm and model."""
    from personascope.runs import compare_runs

    comparison = compare_runs(a, b, runs_dir, all_metrics=all_metrics)
    if as_json:
        _print_json(comparison.to_dict())
        return
    console.print(_text(f"A  {comparison.a}\nB  {comparison.b}"))
    if not comparison.rows:
        console.print(_text("no metrics to compare" + ("" if all_metrics else " (try --all)"), "dim"))
        return
    keys = [{"step": r.step, "name": r.name, "arm": r.arm, "model": r.model} for r in comparison.rows]
    rows = [
        [*(_with_ci(m.value, m.ci_low, m.ci_high) if m is not None else "" for m in (r.a, r.b)), _num(r.difference, sign=True)]
        for r in comparison.rows
    ]
    console.print(_metric_table(keys, ["A [CI]", "B [CI]", "B - A"], rows))


@app.command("export")
def export_command(
    run: str = _RUN,
    fmt: str = typer.Option(..., "--format", "-f", help="csv or parquet."),
    out: Path = typer.Option(None, "--out", "-o", help="Folder to write into (default: <run>/export/)."),
    runs_dir: Path = _RUNS_DIR,
) -> None:
    """Write the run's transcripts, scores, metrics and artifacts tables as CSV or Parquet."""
    from personascope.runs import export_run

    for path in export_run(run, fmt, out, runs_dir):
        print(path)
