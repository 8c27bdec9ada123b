import json
import os
import sys
import tempfile
from pathlib import Path

import typer

from personascope.cli._common import quiet


_OPTIONS = {"max_new_tokens": "--max-tokens", "temperature": "--temperature", "top_p": "--top-p", "batch_size": "--batch-size"}
_RANGES = {
    "--max-tokens": "give a whole number of at least 1",
    "--temperature": "give 0 (greedy) or more",
    "--top-p": "give a number above 0 and at most 1",
    "--batch-size": "give a whole number of at least 1",
}


def generate_config(**fields):
    """A `GenerateConfig`, or a user error naming the option out of range."""
    from pydantic import ValidationError

    from personascope.engine import GenerateConfig
    from personascope.errors import PersonascopeError

    try:
        return GenerateConfig(**fields)
    except ValidationError as exc:
        e = exc.errors()[0]
        option = _OPTIONS.get(e["loc"][0], e["loc"][0])
        raise PersonascopeError(f"{option} {e['input']!r}: {e['msg'].lower()} (fix: {_RANGES.get(option, 'see --help')})") from None


def check_specs(steer, ablate, cap) -> None:
    """Malformed intervention specs are refused before the model loads."""
    if steer or ablate or cap:
        from personascope.engine import InterventionSpec

        InterventionSpec.parse(steer, ablate, cap)


def generate_command(
    input: str = typer.Option("-", "--input", "-i", help="Prompts: JSONL ('prompt' or 'messages') or one per line; - for stdin."),
    output: str = typer.Option("-", "--output", "-o", help="JSONL out; - for stdout."),
    model: str = typer.Option("smollm2", "--model", "-m", help="Model name."),
    system: str | None = typer.Option(None, help="System prompt for every prompt."),
    steer: list[str] = typer.Option([], help="VECTOR@LAYERS:COEF (repeatable)."),
    ablate: list[str] = typer.Option([], help="VECTOR@LAYERS (repeatable)."),
    cap: list[str] = typer.Option([], help="VECTOR@LAYERS:MIN:MAX (repeatable)."),
    max_tokens: int = typer.Option(128, help="Max new tokens per response."),
    temperature: float = typer.Option(0.0, help="0 = greedy."),
    top_p: float = typer.Option(1.0),
    seed: int | None = typer.Option(None),
    batch_size: int = typer.Option(16),
) -> None:
    """Generate a response for each prompt (JSONL out: the input record plus response fields)."""
    from personascope.models import generate, read_prompts

    quiet()
    config = generate_config(max_new_tokens=max_tokens, temperature=temperature, top_p=top_p, seed=seed, batch_size=batch_size)
    check_specs(steer, ablate, cap)
    records = read_prompts(input)
    prompts = [r.get("messages") or r["prompt"] for r in records]
    gens = generate(model, prompts, config, system=system, steer=steer, ablate=ablate, cap=cap, progress=True)
    lines = [
        json.dumps({**r, "model": model, "response": g.text, "finish_reason": g.finish_reason}, ensure_ascii=False)
        for r, g in zip(records, gens)
    ]
    text = "\n".join(lines) + "\n"
    if output == "-":
        sys.stdout.write(text)
        return
    # Atomic: a killed run never leaves a half-written output file.
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, out)
    print(f"wrote {len(lines)} responses to {out}", file=sys.stderr)
