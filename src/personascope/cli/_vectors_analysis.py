"""`personascope vectors sweep|project|space|compare`: commands on the `vectors` app,
each a thin layer over a function in `personascope.vectors`."""

import json
import math
import sys
from pathlib import Path

import typer

from personascope.cli._common import console, err_console, quiet
from personascope.cli._vectors import app
from personascope.errors import PersonascopeError

_MODEL = typer.Option("smollm2", "--model", "-m", help="Model name (white-box: smollm2 or hf/<path>).")
_JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")


def _text(value):
    # Names come from files: never read them as rich markup.
    from rich.text import Text

    return Text(str(value))


def _num(value, low=None, high=None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    text = f"{value:.3g}"
    if low is not None and high is not None and not (math.isnan(low) or math.isnan(high)):
        text += f" [{low:.3g},{high:.3g}]"
    return text


def _numbers(text: str, kind, what: str) -> list:
    """`1,2,3` and, for integers, ranges like `8-12`."""
    out = []
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            a, dash, b = part[1:].partition("-") if kind is int else ("", "", "")
            out.extend(range(int(part[0] + a), int(b) + 1) if dash else [kind(part)])
    except ValueError:
        raise PersonascopeError(f"--{what} {text!r}: write numbers separated by commas (e.g. 2,4 or 8-12)") from None
    if not out:
        raise PersonascopeError(f"--{what} is empty: give at least one value")
    return out


@app.command("sweep")
def sweep_command(
    vector: str = typer.Argument(..., help="Vector directory."),
    model: str = _MODEL,
    layers: str = typer.Option(..., help="Layers to steer at: 8,12 or 8-14."),
    coefs: str = typer.Option(..., help="Steering coefficients: 0,2,4 (use --coefs=-4,0,4 for negatives)."),
    trait: str | None = typer.Option(None, help="Trait name or spec file (default: the vector's meta trait)."),
    judge_model: str | None = typer.Option(None, help="Judge model (default: the swept model, unsteered)."),
    questions: int = typer.Option(10, help="Held-out questions per cell."),
    max_tokens: int = typer.Option(64, help="Max new tokens per answer."),
    coherence_floor: float = typer.Option(50.0, help="Mean coherence a cell needs to be chosen."),
    select_by: str = typer.Option("trait", help="Metric the best cell maximises: trait, projection or a scorer's name."),
    out: str | None = typer.Option(None, help="Output folder (default: VECTOR/sweep)."),
    json_out: bool = _JSON,
) -> None:
    """Steer at each layer x coefficient; judge trait and coherence; choose the best layer."""
    from personascope.vectors import sweep_vector

    quiet()
    result = sweep_vector(
        vector, model, layers=_numbers(layers, int, "layers"), coefs=_numbers(coefs, float, "coefs"), trait=trait,
        judge_model=judge_model, coherence_floor=coherence_floor, n_questions=questions, max_tokens=max_tokens, select_by=select_by, out=out, progress=True,
    )
    if json_out:
        data = result.to_json()
        data.pop("samples")
        print(json.dumps(data, indent=2, default=str))
        return
    from rich.table import Table

    scorers = result.scorers
    table = Table(title=f"sweep of {result.vector} on {result.model}")
    for col in ["layer", "coef", "trait", "coherence", "projection", *scorers]:
        table.add_column(col, justify="right")
    for r in result.rows:
        cells = [_num(r[m], r[f"{m}_low"], r[f"{m}_high"]) for m in ["trait", "coherence", "projection", *scorers]]
        table.add_row(str(r["layer"]), f"{r['coef']:g}", *cells)
    console.print(table)
    if not any(math.isfinite(r["trait"]) for r in result.rows) and result.trait:
        console.print("the trait judge gave no scores (too little probability on numbers): use a stronger "
                      "--judge-model, or --select-by a scorer or projection")
    if result.best:
        b = result.best
        by = result.config.select_by
        console.print(f"best: layer {b['layer']}, coef {b['coef']:g} ({by} {_num(b[by])}, coherence {_num(b['coherence'])})")
    else:
        console.print(f"no steered cell reached mean coherence {coherence_floor:g}: no layer chosen")
    console.print(f"rule: {result.rule}\nwrote {result.out_dir}/sweep.csv, sweep.json, sweep.png")


@app.command("project")
def project_command(
    vectors: list[str] = typer.Argument(..., help="Vector directories."),
    input: str = typer.Option(..., "--input", "-i", help="JSONL records: 'messages', or 'prompt' and 'response'."),
    model: str = _MODEL,
    layer: int | None = typer.Option(None, help="Layer for every vector (default: each vector's chosen_layer)."),
    per_token: bool = typer.Option(False, help="Also write per-token projections of each response."),
    score_field: str | None = typer.Option(None, help="Record field holding a trait score (for the shift predictor)."),
    judge: bool = typer.Option(False, help="Judge each response for each vector's trait."),
    judge_model: str | None = typer.Option(None, help="Judge model for --judge (default: --model)."),
    out: str = typer.Option("-", "--out", "-o", help="JSONL out; - for stdout."),
) -> None:
    """Project records on persona vectors: last prompt token, response mean, per token."""
    from personascope.vectors import judge_records, project_records, read_records, shift_predictor
    from personascope.vectors._compare import atomic_write, plain_json

    if judge and score_field:
        raise PersonascopeError("give --judge or --score-field, not both")
    quiet()
    records = read_records(input)
    if score_field and not any(isinstance(r, dict) and score_field in r for r in records):
        have = sorted({k for r in records if isinstance(r, dict) for k in r})
        raise PersonascopeError(
            f"--score-field {score_field!r}: no record in {input} has that field (fix: use one of: {', '.join(have)})"
        )
    rows = project_records(vectors, model, records, layer=layer, per_token=per_token)
    if judge:
        judge_records(rows, vectors, judge_model or model)
    text = "".join(json.dumps(plain_json(r), ensure_ascii=False) + "\n" for r in rows)
    if out == "-":
        sys.stdout.write(text)
    else:
        Path(out).expanduser().parent.mkdir(parents=True, exist_ok=True)
        atomic_write(Path(out).expanduser(), text.encode())
    from rich.table import Table

    table = Table(title=f"{len(rows)} records")
    for col in ("vector", "layer", "last prompt (mean)", "response (mean)", "shift r vs score [95% CI]", "n"):
        table.add_column(col, justify="right")
    field = "score" if judge else score_field
    for name, entry in rows[0]["projections"].items():
        means = []
        for key in ("last_prompt", "response_mean"):
            xs = [r["projections"][name][key] for r in rows if r["projections"][name][key] is not None]
            means.append(_num(sum(xs) / len(xs)) if xs else "n/a")
        shift = shift_predictor(rows, vector=name, score_field=field) if field else None
        r_text = _num(shift["pearson_r"], shift["ci_low"], shift["ci_high"]) if shift else ""
        table.add_row(_text(name), str(entry["layer"]), *means, r_text, str(shift["n"]) if shift else "")
    (err_console if out == "-" else console).print(table)


@app.command("space")
def space_command(
    model: str = _MODEL,
    out: str = typer.Option(..., "--out", "-o", help="Output folder."),
    roles: str | None = typer.Option(None, help="Roles file (YAML/JSON: {roles: {name: system prompt}, questions: [...]}); default built-in."),
    questions: int | None = typer.Option(None, help="Use the first N questions."),
    layer: int | None = typer.Option(None, help="Layer for PCA and the suggested cap (default: the middle layer)."),
    max_tokens: int = typer.Option(64, help="Max new tokens per answer."),
    default_system: str | None = typer.Option(None, help="System prompt of the default assistant (default: none)."),
    percentiles: tuple[float, float] = typer.Option((1.0, 99.0), help="Cap thresholds: these percentiles of the default assistant's per-token projections."),
) -> None:
    """Role vectors, their PCA, the assistant axis and suggested cap thresholds."""
    from personascope.vectors import load_roles, map_persona_space

    quiet()
    role_map, qs = load_roles(roles)
    summary = map_persona_space(
        model, out, roles=role_map, questions=qs, n_questions=questions, layer=layer,
        default_system=default_system, max_tokens=max_tokens, percentiles=percentiles, progress=True,
    )
    pca = summary["pca"]
    ratio = ", ".join(f"{100 * v:.0f}%" for v in pca["explained_variance_ratio"][:4])
    console.print(f"{len(summary['roles'])} role vectors at layer {summary['layer']}: variance explained by PC1.. = {ratio}")
    cosines = ", ".join(f"{c:+.2f}" for c in pca["components_cosine_with_assistant_axis"][:4])
    console.print(f"cosine of PC1.. with the assistant axis = {cosines}")
    low = summary["cap"]["min"]
    console.print(_text(f"suggested cap (from below: percentile {percentiles[0]:g} of the default assistant, {low:.4g}): --cap {summary['cap']['spec']}"))
    console.print(_text(f"wrote {out}/roles/, assistant_axis/, pca.json, pca.png, caps.json"))


@app.command("compare")
def compare_command(
    vectors: list[str] = typer.Argument(..., help="Vector directories."),
    layer: int | None = typer.Option(None, help="Compare at this layer (default: each vector's chosen_layer)."),
    json_out: bool = _JSON,
) -> None:
    """Cosine similarity matrix of persona vectors."""
    from personascope.vectors import compare_vectors, compared_layers

    names, matrix = compare_vectors(vectors, layer)
    layers = compared_layers(vectors, layer)
    if json_out:
        print(json.dumps({"names": names, "layers": layers, "cosine": matrix.round(6).tolist()}, indent=2))
        return
    from rich.table import Table

    table = Table(title="cosine similarity" + (f" at layer {layer}" if layer is not None else " at each chosen layer"))
    table.add_column("")
    for name, lay in zip(names, layers):
        table.add_column(_text(f"{name}@{lay}"), justify="right")
    for name, lay, row in zip(names, layers, matrix):
        table.add_row(_text(f"{name}@{lay}"), *(f"{v:+.3f}" for v in row))
    console.print(table)
