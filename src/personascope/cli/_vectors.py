"""`personascope vectors extract|show`: thin layers over `personascope.vectors`."""

import json
import sys
from contextlib import contextmanager
from pathlib import Path

import typer

from personascope.cli._common import console, err_console, quiet

app = typer.Typer(help="Persona vectors: extract, inspect, sweep, project and compare them.", no_args_is_help=True)


@contextmanager
def progress_bars(enabled: bool = True):
    """A `steps(description, total)` factory drawing rich bars on stderr."""
    from personascope.vectors._build import no_steps

    if not enabled:
        yield no_steps
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bars:

        @contextmanager
        def steps(description: str, total: int):
            task = bars.add_task(description, total=total)
            try:
                yield lambda n: bars.advance(task, n)
            finally:
                bars.remove_task(task)

        yield steps


@app.command("extract")
def extract_command(
    trait: str = typer.Argument(..., help="A built-in trait name (personascope traits list) or a trait spec file."),
    model: str = typer.Option("smollm2", "--model", "-m", help="White-box model: smollm2 or hf/<path>."),
    out: Path = typer.Option(..., "--out", "-o", help="Vector directory to write."),
    judge_model: str | None = typer.Option(None, "--judge-model", help="Judge model (default: the model itself)."),
    no_judge: bool = typer.Option(False, "--no-judge", help="Do not judge responses; nothing is filtered."),
    filter: str = typer.Option("auto", "--filter", help="auto (only if the judge passes its sanity check), always or never."),
    samples: int = typer.Option(1, "--samples", help="Responses per (instruction pair, question) and side."),
    max_tokens: int = typer.Option(64, "--max-tokens", help="Most tokens per response."),
    temperature: float = typer.Option(0.0, "--temperature", help="0 = greedy; --samples > 1 needs > 0."),
    pairs: int | None = typer.Option(None, "--pairs", help="Use only the first N instruction pairs."),
    questions: int | None = typer.Option(None, "--questions", help="Use only the first N extraction questions."),
    eval_questions: int = typer.Option(10, "--eval-questions", help="Held-out questions for per-layer quality."),
    pos_min: float = typer.Option(50.0, "--pos-min", help="Keep positives scoring at least this."),
    neg_max: float = typer.Option(50.0, "--neg-max", help="Keep negatives scoring below this."),
    coherence_min: float = typer.Option(50.0, "--coherence-min", help="Keep responses at least this coherent."),
    min_pairs: int = typer.Option(4, "--min-pairs", help="Fewest kept positive/negative pairs allowed."),
    select_layer_by: str = typer.Option(
        "text_only", "--select-layer-by",
        help="text_only: pick the layer by held-out responses read without their system prompt (what a monitor sees); "
        "in_context: read after it (the older, higher-reading choice).",
    ),
    responses: tuple[str, str] | None = typer.Option(
        None, "--responses", help="POS NEG: build from existing response files (JSONL or CSV) instead of generating."
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Call the models again: neither read nor write the cache."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bars on stderr."),
) -> None:
    """Extract a persona vector for TRAIT and print its quality summary."""
    from pydantic import ValidationError

    from personascope.errors import PersonascopeError
    from personascope.store import Cache
    from personascope.models import get_model
    from personascope.vectors import ExtractConfig, extract_from_responses, extract_vector

    quiet()
    try:
        config = ExtractConfig(
            samples=samples, max_tokens=max_tokens, temperature=temperature, n_pairs=pairs, n_questions=questions,
            eval_questions=eval_questions, judge=not no_judge, filter=filter, pos_min=pos_min, neg_max=neg_max,
            coherence_min=coherence_min, min_pairs=min_pairs, select_layer_by=select_layer_by,
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}" for e in exc.errors())
        raise PersonascopeError(f"bad options: {problems}") from None
    cache = Cache(enabled=not no_cache)
    cached = get_model(model, cache=cache)
    judge = None if no_judge or judge_model is None else judge_model
    with progress_bars(progress) as steps:
        if responses and all(responses):
            result = extract_from_responses(trait, cached, *responses, config=config, judge_model=judge, cache=cache, progress=steps)
        else:
            result = extract_vector(trait, cached, config=config, judge_model=judge, cache=cache, progress=steps)
    path = result.save(out)
    print_summary(result.meta, path)


def _reading(meta: dict) -> str:
    from personascope.vectors._quality import selected_by

    return "the response text alone" if selected_by(meta) == "text_only" else "responses with their system prompt in context"


def print_summary(meta: dict, path: Path) -> None:
    from rich.table import Table

    from personascope.report._html import fmt

    from personascope.vectors._quality import chosen_row

    counts, check = meta.get("counts", {}), meta.get("sanity_check") or {}
    chosen = meta.get("chosen_layer")
    text, context = chosen_row(meta, "text_only"), chosen_row(meta, "in_context")
    table = Table(title=f"persona vector: {meta.get('name')} on {meta.get('model')}", show_header=False)
    judge = meta.get("judge", {})
    items = [
        ("responses (positive / negative)", f"{counts.get('positive')} / {counts.get('negative')}"),
        ("kept (positive / negative)", f"{counts.get('positive_kept')} / {counts.get('negative_kept')}"),
        ("judge", judge.get("model") or ("off (scores from the response files)" if check else "off (--no-judge)")),
        ("judge sanity AUROC", fmt(check.get("auroc")) if check else "—"),
        ("filter", f"{meta['filter']['policy']}: {'applied' if meta['filter']['applied'] else 'not applied'}"),
        ("chosen layer", f"{fmt(chosen)} (by {_reading(meta)})"),
        ("held-out AUROC at chosen layer, text only", fmt(text.get("auroc"))),
        ("held-out Cohen's d at chosen layer, text only", fmt(text.get("cohens_d"))),
        ("held-out AUROC / d, system prompt in context", f"{fmt(context.get('auroc'))} / {fmt(context.get('cohens_d'))}"),
        ("time", f"{meta.get('timings', {}).get('total', 0):.1f} s"),
        ("written to", str(path)),
    ]
    for key, value in items:
        table.add_row(key, value)
    console.print(table)
    err_console.print(f"[dim]filter: {meta['filter']['reason']}[/dim]", highlight=False)
    if check.get("warning"):
        err_console.print(f"[yellow]judge warning:[/yellow] {check['warning']}", highlight=False)


@app.command("show")
def show_command(
    path: Path = typer.Argument(..., help="A vector directory."),
    as_json: bool = typer.Option(False, "--json", help="Print the metadata (with `layers` and `chosen_layer`) as JSON."),
) -> None:
    """Print a vector's per-layer held-out quality and its metadata."""
    from personascope.vectors import PersonaVector

    vector = PersonaVector.load(path)
    meta = {"layers": [], "chosen_layer": None, **vector.meta}
    if as_json:
        sys.stdout.write(json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n")
        return
    from rich.table import Table

    from personascope.report._html import fmt

    console.print(f"[bold]{meta.get('name', path)}[/bold] on {meta.get('model', '?')}: "
                  f"{vector.n_layers} layers x {vector.hidden_size}, pooling {meta.get('pooling', '?')}", highlight=False)
    if not meta["layers"]:
        console.print("No per-layer quality recorded (only `vectors extract` measures it).")
        return
    text = {r["layer"]: r for r in meta.get("layers_text_only") or []}
    table = Table("layer", "AUROC (text only)", "Cohen's d (text only)", "AUROC (prompt in context)",
                  "Cohen's d (prompt in context)", "", title="held-out quality per layer")
    for r in meta["layers"]:
        mark = "◀ chosen" if r["layer"] == meta["chosen_layer"] else ""
        t = text.get(r["layer"], {})
        table.add_row(str(r["layer"]), fmt(t.get("auroc")), fmt(t.get("cohens_d")), fmt(r["auroc"]), fmt(r["cohens_d"]), mark)
    console.print(table)
    console.print(f"layer chosen by {_reading(meta)}", highlight=False)
    counts, check, filt = meta.get("counts", {}), meta.get("sanity_check") or {}, meta.get("filter", {})
    console.print(
        f"kept pairs {counts.get('pairs_kept')} of {counts.get('pairs')}; judge {meta.get('judge', {}).get('model') or 'off'}"
        f" (sanity AUROC {fmt(check.get('auroc'))}); filter {filt.get('policy')}: {filt.get('reason')}", highlight=False,
    )
