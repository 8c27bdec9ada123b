"""`personascope train run CONFIG` and `personascope train show RUN`: the `train`
step (`personascope.train.TrainStep`) run through the study runner, so a training
run gets a run directory, manifest, resume, whole-step reuse and a report."""

import json
from pathlib import Path

import typer

from personascope.cli._common import NEW_RUN, NO_CACHE, RUNS_DIR, WAIT_RUN, console, quiet

app = typer.Typer(help="Finetuning experiments: arms, seeds, monitoring, evaluation.", no_args_is_help=True)


def load_train_config(path: Path):
    """A study from CONFIG: a study YAML with a train step, or the fields of one
    train step with a `model:` (and optionally `name:`, `seed:`)."""
    from personascope._yamlerrors import read_text
    from personascope.errors import PersonascopeError
    from personascope.study import load_study
    from personascope.study._config import load_yaml, parse_study

    if not path.is_file():
        raise PersonascopeError(f"no such training config: {path} (fix: give a YAML file, e.g. examples/train-opener.yaml)")
    text = read_text(path, "training config")
    raw = load_yaml(text, str(path))
    if isinstance(raw, dict) and "steps" in raw:
        study = load_study(path)
        if not any(step.type == "train" for step in study.steps):
            raise PersonascopeError(f"{path}: no step has type: train (fix: add one, or use `personascope study run`)")
        return study
    if not isinstance(raw, dict) or "model" not in raw:
        raise PersonascopeError(f"{path}: a training config needs `model:` and the train step's fields "
                                "(dataset, arms, ...), or a study's `steps:` (fix: see examples/train-opener.yaml)")
    raw = dict(raw)
    header = {"name": raw.pop("name", path.stem), "seed": raw.pop("seed", 0), "models": {"model": raw.pop("model")}}
    step = {"id": raw.pop("id", "train"), "type": "train", **raw}
    return parse_study({**header, "steps": [step]}, file=str(path), source=path.resolve())


@app.command("run")
def run_command(
    config: Path = typer.Argument(..., help="A study YAML with a train step, or a train step's fields with model:."),
    runs_dir: Path = RUNS_DIR,
    no_cache: bool = NO_CACHE,
    new: bool = NEW_RUN,
    wait: bool = WAIT_RUN,
) -> None:
    """Train every arm and seed, evaluate them, and print the headline table.

    Rerun the same config to resume a killed run (training continues from its last
    checkpoint); an unchanged run is reused whole."""
    from personascope.study import run_study

    quiet()
    study = load_train_config(config)
    result = run_study(study, runs_dir=runs_dir, no_cache=no_cache, new=new, wait=wait)
    _show(result.run_dir)
    print(f"run:    {result.run_dir}")
    print(f"report: {result.report}")


@app.command("show")
def show_command(
    run: str = typer.Argument("latest", help="A run directory, id, id prefix or `latest`."),
    runs_dir: Path = RUNS_DIR,
    as_json: bool = typer.Option(False, "--json", help="Print the summaries as JSON."),
) -> None:
    """The trait rates per arm and condition with CIs, and the effects against the reference arm."""
    from personascope._runsdir import resolve_run

    run_dir = resolve_run(run, runs_dir)
    if as_json:
        print(json.dumps({str(p.relative_to(run_dir)): json.loads(p.read_text())["summary"] for p in _results(run_dir)}, indent=1))
        return
    _show(run_dir)


def _results(run_dir: Path) -> list[Path]:
    from personascope.errors import PersonascopeError

    manifest = json.loads((run_dir / "manifest.json").read_text())
    steps = [sid for sid, s in manifest.get("steps", {}).items() if s.get("type") == "train"] or [
        p.parent.name for p in (run_dir / "artifacts").glob("*/result-*.json")]
    found = [p for sid in steps for p in sorted((run_dir / "artifacts" / sid).glob("result-*.json"))
             if {"arms", "summary"} <= set(json.loads(p.read_text()))]
    if not found:
        raise PersonascopeError(f"{run_dir} has no finished train step (fix: run one with `personascope train run`)")
    return found


def _ci(row: dict) -> str:
    low, high = row.get("ci_low"), row.get("ci_high")
    if row.get("value") is None:  # undefined, e.g. a retention whose reference rate is 0
        return "n/a"
    return f"{row['value']:.3f}" + (f" [{low:.3f}, {high:.3f}]" if low is not None and high is not None else "")


# (summary key, title, columns: (header, row key or None for the value with its CI))
_TABLES = (
    ("rates", "trait rate (share of replies scoring >= 50), 95% CI", (("arm", "arm"), ("condition", "condition"), ("scorer", "scorer"), ("rate", None), ("n", "n"))),
    ("effects", "effect: reference rate minus arm rate", (("arm", "arm"), ("condition", "condition"), ("scorer", "scorer"), ("effect", None))),
    ("retention", "retention: arm rate / reference rate", (("arm", "arm"), ("scorer", "scorer"), ("retention", None))),
    ("means", "mean score (0-100) or projection per arm and condition, 95% CI",
     (("arm", "arm"), ("condition", "condition"), ("measure", "measure"), ("mean", None), ("n", "n"))),
    ("mean_effects", "mean effect: reference mean minus arm mean", (("arm", "arm"), ("condition", "condition"), ("measure", "measure"), ("effect", None))),
    ("shifts", "shift from the base model: arm mean minus base mean", (("arm", "arm"), ("condition", "condition"), ("measure", "measure"), ("shift", None))),
)


def _show(run_dir: Path) -> None:
    from rich.markup import escape
    from rich.table import Table

    for path in _results(run_dir):
        summary = json.loads(path.read_text()).get("summary") or {}
        for k, (key, title, columns) in enumerate(_TABLES):
            if k and not summary.get(key):  # the rates table is shown even when empty
                continue
            table = Table(title=f"{path.parent.name}: {title}" if k == 0 else title)
            for header, _ in columns:
                table.add_column(header)
            for r in summary.get(key, []):
                table.add_row(*(_ci(r) if field is None else escape(str(r.get(field, ""))) for _, field in columns))
            console.print(table)
