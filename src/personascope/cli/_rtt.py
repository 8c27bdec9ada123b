"""`personascope rtt run`: the `rtt` step as a one-step study (`personascope.study.run_step`)."""

from pathlib import Path

import typer

from personascope.cli._common import JSON_OUT, NEW_RUN, NO_CACHE, RUNS_DIR, build_config, print_run, quiet

app = typer.Typer(help="The reverse Turing test: can a model pick out a copy of itself?", no_args_is_help=True)


def _pairs(values: list[str], flag: str, what: str) -> dict[str, str]:
    from personascope.errors import PersonascopeError

    out: dict[str, str] = {}
    for pair in values:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise PersonascopeError(f"{flag} takes NAME={what}, not {pair!r}")
        if name.strip() in out:
            raise PersonascopeError(f"{flag} {name.strip()!r} is given twice")
        out[name.strip()] = value
    return out


def candidates(systems: list[str], models: list[str]) -> list[dict] | None:
    """The target itself (`self`) and each named candidate; None (the built-in set) without any."""
    by_system = _pairs(systems, "--candidate", "SYSTEM_PROMPT")
    by_model = _pairs(models, "--candidate-model", "MODEL")
    if not by_system and not by_model:
        return None
    names = list(dict.fromkeys([*by_system, *by_model]))
    return [{"name": "self"}, *({"name": n, "system": by_system.get(n), "model": by_model.get(n) or None} for n in names)]


def result_table(data: dict):
    """A rich table of a result's JSON (`RTTResult.to_json()`)."""
    from rich.markup import escape
    from rich.table import Table

    n = len(data["trials"])
    table = Table(title=escape(f"reverse Turing test: {data['model']} ({n} trials, {len(data['candidates'])} candidates)"))
    table.add_column("statistic")
    table.add_column("value", justify="right")
    a, p = data["accuracy"], data["p_twin"]
    table.add_row("accuracy [95% CI]", f"{a['value']:.3g} [{a['low']:.3g}, {a['high']:.3g}]")
    table.add_row("chance", f"{data['chance']:.3g}")
    table.add_row("p-value (accuracy > chance)", f"{data['p_value']:.3g}")
    if p["n"]:
        table.add_row("p(twin) [95% CI]", f"{p['value']:.3g} [{p['low']:.3g}, {p['high']:.3g}]")
    for name, count in data["strategies"].items():
        table.add_row(escape(f"questions: {name}"), str(count))
    for name, count in (data.get("judged") or {}).items():
        table.add_row(escape(f"questions (judge): {name}"), str(count))
    return table


@app.command("run")
def run_command(
    model: str = typer.Option("smollm2", "--model", "-m", help="Any model name: smollm2, hf/<path>, an Inspect model."),
    candidate: list[str] = typer.Option([], "--candidate", "-c", help="NAME=SYSTEM_PROMPT: a persona of the target (repeatable)."),
    candidate_model: list[str] = typer.Option([], "--candidate-model", help="NAME=MODEL: a candidate on another model (repeatable)."),
    trials: int = typer.Option(8, help="Interviews (the twin's letter is spread evenly over them)."),
    questions: int = typer.Option(3, help="Questions the target asks per interview."),
    system: str | None = typer.Option(None, help="The target's own system prompt (and its twin's)."),
    max_tokens: int = typer.Option(48, "--max-tokens", help="Length of each question and answer."),
    judge_model: str | None = typer.Option(None, "--judge-model", help="Also sort the questions into strategies with this model."),
    temperature: float = typer.Option(0.0),
    seed: int = typer.Option(0),
    json_out: bool = JSON_OUT,
    runs_dir: Path = RUNS_DIR,
    no_cache: bool = NO_CACHE,
    new: bool = NEW_RUN,
) -> None:
    """Let the model interview candidates, one of them itself, and print how often it finds itself.

    Without --candidate/--candidate-model the candidates are the model itself, a pirate, a 1950s telegraph operator and a child. Writes a run directory with report.html."""
    from personascope.conversations import RTTStep
    from personascope.study import run_step

    quiet()
    fields = dict(trials=trials, questions=questions, system=system, max_tokens=max_tokens, judge_model=judge_model,
                  temperature=temperature)
    cast = candidates(candidate, candidate_model)
    if cast is not None:
        fields["candidates"] = cast
    step = build_config(RTTStep, id="rtt", type="rtt", **fields)
    run, data = run_step(step, model, name="rtt", seed=seed, runs_dir=runs_dir, no_cache=no_cache, new=new)
    print_run(run, data, lambda d: [result_table(d)], json_out)
