import json
import sys
from pathlib import Path

import typer

from personascope._files import atomic_write
from personascope.cli._common import ALLOW_OTHER_MODEL, check_specs, quiet


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


def generate_command(
    input: str = typer.Option("-", "--input", "-i", help="Prompts: JSONL ('prompt' or 'messages') or one per line; - for stdin."),
    output: str = typer.Option("-", "--output", "-o", help="JSONL out; - for stdout."),
    model: str = typer.Option("smollm2", "--model", "-m", help="Model name."),
    model_arg: list[str] = typer.Option(
        [], "-M", "--model-arg",
        help="API model arg key=value (repeatable), e.g. -M base_url=http://localhost:8000/v1 -M timeout=60 -M max_retries=2.",
    ),
    system: str | None = typer.Option(None, help="System prompt for every prompt."),
    steer: list[str] = typer.Option([], help="VECTOR@LAYERS:COEF (repeatable)."),
    ablate: list[str] = typer.Option([], help="VECTOR@LAYERS (repeatable)."),
    cap: list[str] = typer.Option([], help="VECTOR@LAYERS:MIN:MAX (repeatable)."),
    allow_other_model: bool = ALLOW_OTHER_MODEL,
    max_tokens: int = typer.Option(128, help="Max new tokens per response."),
    temperature: float = typer.Option(0.0, help="0 = greedy."),
    top_p: float = typer.Option(1.0),
    seed: int | None = typer.Option(None),
    batch_size: int = typer.Option(16),
) -> None:
    """Generate a response for each prompt (JSONL out: the input record, the response
    and, under `generation`, the model's fingerprint and every setting used)."""
    from personascope.cli._eval import _options
    from personascope.models import generate, get_model, read_prompts

    quiet()
    config = generate_config(max_new_tokens=max_tokens, temperature=temperature, top_p=top_p, seed=seed, batch_size=batch_size)
    check_specs(steer, ablate, cap)
    records = read_prompts(input)
    args = _options(model_arg, "-M")
    handle = get_model(model, args=args) if args else get_model(model)
    if args and handle.white_box:
        from personascope.errors import PersonascopeError

        raise PersonascopeError(f"-M sets args of API models; {handle.name} is a white-box model (drop -M)")
    prompts = [r.get("messages") or r["prompt"] for r in records]
    gens = generate(handle, prompts, config, system=system, steer=steer, ablate=ablate, cap=cap, progress=True,
                    allow_other_model=allow_other_model)
    settings = _settings(handle, config, system, steer, ablate, cap)
    lines = [
        json.dumps({**r, "model": model, "response": g.text, "finish_reason": g.finish_reason, "generation": settings},
                   ensure_ascii=False)
        for r, g in zip(records, gens)
    ]
    text = "\n".join(lines) + "\n"
    if output == "-":
        sys.stdout.write(text)
        return
    # Atomic: a killed run never leaves a half-written output file.
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, text)
    print(f"wrote {len(lines)} responses to {out}", file=sys.stderr)


def _settings(handle, config, system, steer, ablate, cap) -> dict:
    """What produced a response, so an output file says how to reproduce it: the model
    as fingerprinted (weights and tokenizer hashes, or the API model and its args, never
    a key), the system prompt, each intervention with its vector's content digest, and
    the sampling settings."""
    from personascope.models._model import intervention_key

    interventions = [
        {"kind": kind, "spec": spec, "vector_digest": intervention_key(kind, spec)[1]}
        for kind, specs in (("steer", steer), ("ablate", ablate), ("cap", cap)) for spec in specs
    ]
    return {
        "model": handle.describe(),
        "system": system,
        "interventions": interventions,
        "max_tokens": config.max_new_tokens,
        "temperature": config.temperature,
        "top_p": config.top_p,
        "seed": config.seed,
    }
