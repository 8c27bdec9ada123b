"""`personascope data ...`: thin layers over `personascope.data`."""

import json
import sys
from pathlib import Path

import typer

from personascope.cli._common import console, quiet
from personascope.errors import PersonascopeError

app = typer.Typer(help="Training datasets: generate, import, show and validate them.", no_args_is_help=True)


def _out(path: Path, force: bool) -> Path:
    if path.exists() and not force:
        raise PersonascopeError(f"{path} exists (fix: pass --force to overwrite it, or choose another -o)")
    return path


def _wrote(path: Path, n: int) -> None:
    from personascope.data import meta_path

    # Plain prints: paths are copied by people, never wrapped or styled.
    print(f"wrote {n} examples to {path} (provenance: {meta_path(path)})", file=sys.stderr)


@app.command("generate")
def generate_command(
    output: Path = typer.Option(..., "--output", "-o", help="The dataset to write (chat JSONL, plus a .meta.json sidecar)."),
    model: str = typer.Option("smollm2", "--model", "-m", help="Model that writes the answers."),
    questions: str | None = typer.Option(
        None, "--questions", "-q", help="Question set: train, heldout, or a .yaml/.json/.txt file (default: train; "
        "with --persona, the trait's extract questions)."),
    n: int | None = typer.Option(None, "-n", help="Use the first n questions (default: all)."),
    transform: list[str] = typer.Option([], "--transform", "-t", help="Toy trait to write in: opener, signoff, caps; short keeps the first sentence (repeatable)."),
    system: str | None = typer.Option(None, "--system", help="System prompt to generate under (not stored in the examples)."),
    persona: str | None = typer.Option(None, "--persona", help="Generate under this trait's positive instructions instead."),
    max_tokens: int = typer.Option(64, "--max-tokens", help="Max new tokens per answer."),
    temperature: float = typer.Option(0.0, "--temperature", help="0 = greedy."),
    seed: int = typer.Option(0, "--seed", help="Sampling seed (with --temperature above 0)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file."),
) -> None:
    """Build a dataset from a model's own answers (toy traits by transform, or a persona)."""
    from personascope.data import generate_dataset, persona_dataset, write_dataset

    quiet()
    _out(output, force)
    if max_tokens < 1:
        raise PersonascopeError(f"--max-tokens {max_tokens}: give a whole number of at least 1")
    if temperature < 0:
        raise PersonascopeError(f"--temperature {temperature}: give 0 (greedy) or more")
    common = dict(n=n, transforms=transform, max_tokens=max_tokens, temperature=temperature, seed=seed, progress=True)
    if persona is not None:
        if system is not None:
            raise PersonascopeError("--system and --persona both set the generation prompt (fix: give one of them)")
        examples, provenance = persona_dataset(model, persona, questions=questions, **common)
    else:
        examples, provenance = generate_dataset(model, questions or "train", system=system, **common)
    if not examples:
        raise PersonascopeError(f"{model} gave only empty answers (fix: raise --max-tokens, or try another model)")
    write_dataset(output, examples, provenance)
    _wrote(output, len(examples))


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="A messages JSONL or prompt/answer CSV/TSV file."),
    output: Path = typer.Option(..., "--output", "-o", help="The dataset to write (chat JSONL, plus a .meta.json sidecar)."),
    format: str = typer.Option("auto", "--format", help="auto (by suffix), jsonl, csv or tsv."),
    prompt_column: str | None = typer.Option(None, "--prompt-column", help="CSV column of the user turn (default: found by name)."),
    completion_column: str | None = typer.Option(None, "--completion-column", help="CSV column of the reply (default: found by name)."),
    system_column: str | None = typer.Option(None, "--system-column", help="CSV column of a system prompt (optional)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file."),
) -> None:
    """Convert a user file to the chat JSONL format, with a provenance sidecar."""
    import hashlib

    from personascope.data import import_dataset, write_dataset

    _out(output, force)
    if output.resolve() == file.resolve():
        raise PersonascopeError(f"-o {output} is the input file (fix: write to another file)")
    examples = import_dataset(file, format=format, prompt_column=prompt_column, completion_column=completion_column,
                              system_column=system_column)
    provenance = {"generator": "import", "source": str(file), "source_sha256": hashlib.sha256(file.read_bytes()).hexdigest(),
                  "format": format, "columns": {"prompt": prompt_column, "completion": completion_column, "system": system_column}}
    write_dataset(output, examples, provenance)
    _wrote(output, len(examples))


def _safe(text: str) -> str:
    # Dataset text is untrusted (model-written or a user's file): no markup, no terminal escapes.
    from rich.markup import escape

    return escape(text.replace("\x1b", "\\x1b"))


def _stats(examples) -> dict:
    n = len(examples)
    return {
        "examples": n,
        "with_system": sum(e.system is not None for e in examples),
        "system_share": sum(e.system is not None for e in examples) / n,
        "multi_turn": sum(len([t for t in e.prompt if t.role == "user"]) > 1 for e in examples),
        "mean_reply_chars": sum(len(e.completion) for e in examples) / n,
        "mean_reply_words": sum(len(e.completion.split()) for e in examples) / n,
    }


@app.command("show")
def show_command(
    file: Path = typer.Argument(..., help="A dataset (chat JSONL)."),
    n: int = typer.Option(3, "-n", help="Examples to print."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Counts, the share with a system turn, mean reply length, provenance and the first n examples."""
    from personascope.data import read_dataset, read_provenance

    examples = read_dataset(file)
    stats, provenance = _stats(examples), read_provenance(file)
    if as_json:
        print(json.dumps({**stats, "provenance": provenance, "first": [e.to_json() for e in examples[:n]]}, indent=1))
        return
    console.print(f"[bold]{_safe(str(file))}[/bold]: {stats['examples']} examples, "
                  f"{stats['system_share']:.0%} with a system turn, {stats['multi_turn']} multi-turn, "
                  f"replies {stats['mean_reply_words']:.1f} words ({stats['mean_reply_chars']:.0f} chars) on average",
                  highlight=False, soft_wrap=True)
    if provenance:
        model = provenance.get("model", {})
        parts = [f"{k}: {provenance[k]}" for k in ("generator", "trait", "questions", "transforms", "source") if k in provenance]
        if isinstance(model, dict) and model.get("name"):
            parts.insert(1, f"model: {model['name']}")
        console.print("provenance: " + _safe("; ".join(parts)), highlight=False, soft_wrap=True)
    for i, e in enumerate(examples[:n]):
        console.print(f"\n[dim]--- example {i + 1}[/dim]", highlight=False, soft_wrap=True)
        for turn in e.prompt:
            console.print(f"[bold]{turn.role}[/bold]: {_safe(turn.content)}", highlight=False, soft_wrap=True)
        console.print(f"[bold]assistant[/bold]: {_safe(e.completion)}", highlight=False, soft_wrap=True)


@app.command("validate")
def validate_command(file: Path = typer.Argument(..., help="A dataset (chat JSONL).")) -> None:
    """Check every line of a dataset (exit 2 with `file:line` and the fix on the first bad one)."""
    from personascope.data import read_dataset, read_provenance

    examples = read_dataset(file)
    provenance = read_provenance(file)
    note = ""
    if provenance is not None and provenance.get("n_examples") not in (None, len(examples)):
        note = f" (the sidecar says {provenance['n_examples']}: the file was edited after it was written)"
    print(f"{file}: {len(examples)} valid examples{note}")
