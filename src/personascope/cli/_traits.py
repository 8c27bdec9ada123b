"""`personascope traits ...`: thin layers over `personascope.traits`."""

import json
from pathlib import Path

import typer

from personascope.cli._common import console, quiet
from personascope.errors import PersonascopeError

app = typer.Typer(help="Trait specs: list, show, validate, import and generate them.", no_args_is_help=True)

_JSON = typer.Option(False, "--json", help="Print JSON.")


def _text(value) -> "object":
    # Spec text may be model-written: show it literally, never as rich markup.
    from rich.text import Text

    return Text("" if value is None else str(value))


def _write(spec, out: Path | None, force: bool) -> None:
    from personascope.traits import dump_trait, save_trait

    if out is None:
        print(dump_trait(spec), end="")
        return
    if out.exists() and not force:
        raise PersonascopeError(f"{out} exists (fix: pass --force to overwrite it, or choose another --out)")
    save_trait(spec, out)
    counts = spec.counts()
    print(f"wrote {out}: {spec.name} ({counts['instructions']} instruction pairs, "
          f"{counts['extract']} extract and {counts['eval']} eval questions)")


def _headline(description: str) -> str:
    # Built-in descriptions open with a short summary before the colon; the table shows that.
    head = description.split(":")[0].split(". ")[0].strip()
    return head if len(head) <= 70 else head[:67] + "..."


@app.command("list")
def list_command(as_json: bool = _JSON) -> None:
    """The built-in traits with what they measure and their sizes."""
    from rich.table import Table

    from personascope.traits import list_traits, load_trait

    rows = []
    for name in list_traits():
        spec = load_trait(name)
        rows.append({"name": name, "description": spec.description, **spec.counts(), "scorers": spec.scorers})
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("name", "pairs", "extract", "eval", "scorers", "description")
    for row in rows:
        table.add_row(row["name"], str(row["instructions"]), str(row["extract"]), str(row["eval"]),
                      ", ".join(row["scorers"]), _text(_headline(row["description"])))
    console.print(table)


@app.command("show")
def show_command(
    trait: str = typer.Argument(..., help="A built-in trait name or a spec file (.yaml/.json)."),
    as_json: bool = _JSON,
    as_yaml: bool = typer.Option(False, "--yaml", help="Print the spec as YAML (a starting point for your own)."),
) -> None:
    """One trait spec: description, counts, prompts, rubric."""
    from personascope.traits import dump_trait, load_trait

    if as_json and as_yaml:
        raise PersonascopeError("--json and --yaml exclude each other: pick one")
    spec = load_trait(trait)
    if as_json:
        print(json.dumps(spec.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return
    if as_yaml:
        print(dump_trait(spec), end="")
        return
    counts = spec.counts()
    console.print(_text(f"{spec.name}: {spec.description}"), style="bold")
    console.print(f"{counts['instructions']} instruction pairs, {counts['extract']} extract and "
                  f"{counts['eval']} eval questions; scorers: {', '.join(spec.scorers) or 'none'}", highlight=False)
    first = spec.instructions[0]
    console.print(_text(f"\npos: {first.pos}\nneg: {first.neg}"))
    console.print(_text(f"\nextract: {spec.questions.extract[0]} ...\neval: {spec.questions.eval[0]} ..."))
    console.print(_text(f"\nrubric:\n{spec.judge.rubric}"))
    for ref in spec.references:
        console.print(_text(f"reference: {ref}"))
    for note in spec.shortfalls():
        console.print(_text(f"note: thin for a study: {note}"), style="yellow")


@app.command("validate")
def validate_command(file: Path = typer.Argument(..., help="The spec file to check.")) -> None:
    """Check a spec file; every problem is listed with file, line, field and fix."""
    from personascope.traits import validate_trait_file

    spec = validate_trait_file(file)
    counts = spec.counts()
    print(f"ok: {file} is a valid trait spec ({spec.name}: {counts['instructions']} instruction pairs, "
          f"{counts['extract']} extract and {counts['eval']} eval questions)")
    for note in spec.shortfalls():
        print(f"note: {note}")


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="The file to import."),
    fmt: str = typer.Option(..., "--format", "-f", help="persona-vectors, assistant-axis or mwe."),
    eval_file: Path | None = typer.Option(
        None, "--eval", help="Held-out questions: persona_vectors' trait_data_eval file, or an assistant-axis questions JSONL."
    ),
    name: str | None = typer.Option(None, "--name", help="Name of the spec (default: the file's stem)."),
    bare: bool = typer.Option(
        False, "--bare", help="persona-vectors: keep instructions bare, without the reference's 'You are a/an <trait> assistant.' framing."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the YAML here (default: print it)."),
    force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
) -> None:
    """Turn a trait or role file of another project into a personascope spec (YAML)."""
    from personascope.traits import import_trait

    _write(import_trait(file, fmt, eval_path=eval_file, name=name, bare=bare), out, force)


@app.command("generate")
def generate_command(
    description: str = typer.Argument(..., help="The trait in a sentence, e.g. 'overconfident about its own abilities'."),
    model: str = typer.Option(..., "--model", "-m", help="smollm2, hf/<path-or-id>, or an Inspect model string."),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the YAML."),
    name: str | None = typer.Option(None, "--name", help="Name of the spec (default: from the description)."),
    questions: int = typer.Option(20, "--questions", help="Questions per split (extract and eval)."),
    attempts: int = typer.Option(3, "--attempts", help="Sampled attempts pooled before templates fill gaps."),
    seed: int = typer.Option(0, "--seed", help="Seed of the first attempt."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the call cache."),
    force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
) -> None:
    """Have a model write a new spec from a description (review it before use)."""
    from personascope.store import Cache
    from personascope.traits import generate_trait

    if out.exists() and not force:
        raise PersonascopeError(f"{out} exists (fix: pass --force to overwrite it, or choose another --out)")
    quiet()
    spec = generate_trait(description, model, name=name, cache=Cache(enabled=not no_cache),
                          n_questions=questions, attempts=attempts, seed=seed)
    _write(spec, out, True)
    print(spec.references[0])
