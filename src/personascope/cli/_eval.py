"""`personascope eval SUITE`: the `eval` protocol (`personascope.evals.EvalStep`) run as a
one-step study by `personascope.study.run_step`."""

from pathlib import Path

import typer

from personascope.cli._common import JSON_OUT, NEW_RUN, NO_CACHE, RUNS_DIR, build_config, print_run, quiet


def _options(pairs: list[str], flag: str = "-T") -> dict:
    import yaml

    from personascope.errors import PersonascopeError

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise PersonascopeError(f"{flag} takes key=value, not {pair!r}")
        out[key.strip()] = yaml.safe_load(value) if value.strip() else ""
    return out


def eval_command(
    suite: str = typer.Argument(..., help="trait, misalignment, self-identity, distress, psychometrics or mwe."),
    model: str = typer.Option("smollm2", "--model", "-m", help="Any model name: smollm2, hf/<path>, an Inspect model."),
    option: list[str] = typer.Option([], "-T", "--option", help="Suite option key=value (repeatable), e.g. -T trait=evil."),
    steer: list[str] = typer.Option([], help="VECTOR@LAYERS:COEF (repeatable)."),
    ablate: list[str] = typer.Option([], help="VECTOR@LAYERS (repeatable)."),
    cap: list[str] = typer.Option([], help="VECTOR@LAYERS:MIN:MAX (repeatable)."),
    system: str | None = typer.Option(None, help="System prompt for every item."),
    compare: bool = typer.Option(False, "--compare", help="Also run the plain model and print steered - plain with CIs."),
    limit: int | None = typer.Option(None, help="Use only N items (spread over the suite's groups)."),
    judge_model: str | None = typer.Option(None, "--judge-model", help="Judge model (default: the model, unsteered)."),
    max_tokens: int | None = typer.Option(None, "--max-tokens", help="Answer length (default: the suite's)."),
    samples: int = typer.Option(1, help="Answers per item (needs --temperature > 0)."),
    temperature: float = typer.Option(0.0),
    seed: int = typer.Option(0),
    json_out: bool = JSON_OUT,
    runs_dir: Path = RUNS_DIR,
    no_cache: bool = NO_CACHE,
    new: bool = NEW_RUN,
) -> None:
    """Run an evaluation suite and print its statistics with 95% bootstrap CIs.

    Writes a run directory (transcripts, scores, report.html) like `study run`."""
    from personascope.evals import EvalStep
    from personascope.evals._result import result_table, result_warnings
    from personascope.protocol import arms_from_specs
    from personascope.study import run_step

    quiet()
    arms = arms_from_specs(steer, ablate, cap, compare=compare)
    fields = {
        "id": "eval", "type": "eval", "suite": suite, "options": _options(option), "system": system, "limit": limit,
        "judge_model": judge_model, "max_tokens": max_tokens, "samples": samples, "temperature": temperature,
    }
    fields["arms"] = arms
    step = build_config(EvalStep, **fields)
    run, data = run_step(step, model, name=f"eval-{suite}", seed=seed, runs_dir=runs_dir, no_cache=no_cache, new=new)
    print_run(run, data, lambda d: [result_table(d), *result_warnings(d)], json_out)
