"""`personascope therapy run`: the `therapy` step as a one-step study (`personascope.study.run_step`)."""

from pathlib import Path

import typer

from personascope.cli._common import JSON_OUT, NEW_RUN, NO_CACHE, RUNS_DIR, build_config, print_run, quiet

app = typer.Typer(help="Therapy-style sessions, then psychometric questionnaires with and without their history.",
                  no_args_is_help=True)


@app.command("run")
def run_command(
    model: str = typer.Option("smollm2", "--model", "-m", help="Any model name: smollm2, hf/<path>, an Inspect model."),
    sessions: int = typer.Option(3, help="Therapy sessions (the first N of the script)."),
    questions: int = typer.Option(4, help="Therapist questions per session."),
    script: Path = typer.Option(None, help="A therapy script YAML file (layout of the built-in therapy.yaml)."),
    system: str | None = typer.Option(None, help="The target's system prompt."),
    instrument: list[str] = typer.Option([], "--instrument", "-i", help="Instrument or file (repeatable; default ps-anxiety, ps-mood, ps-bigfive)."),
    option: list[str] = typer.Option([], "-T", "--option", help="Psychometrics option key=value (repeatable), e.g. -T route=choice."),
    limit: int | None = typer.Option(None, help="Statements per instrument (default: all)."),
    max_tokens: int = typer.Option(64, "--max-tokens", help="Length of each therapy reply."),
    conversations: int = typer.Option(1, help="Independent courses of sessions (needs --temperature > 0)."),
    temperature: float = typer.Option(0.0),
    seed: int = typer.Option(0),
    json_out: bool = JSON_OUT,
    runs_dir: Path = RUNS_DIR,
    no_cache: bool = NO_CACHE,
    new: bool = NEW_RUN,
) -> None:
    """Hold the sessions, then print each scale's score per condition (no history,
    one session, every session) and the differences, with 95% bootstrap CIs.

    Writes a run directory (session transcripts, answers, report.html)."""
    from personascope.cli._eval import _options
    from personascope.conversations import TherapyStep
    from personascope.conversations._therapy import result_tables
    from personascope.study import run_step

    quiet()
    fields = dict(sessions=sessions, questions=questions, system=system, options=_options(option), limit=limit,
                  max_tokens=max_tokens, conversations=conversations, temperature=temperature)
    if instrument:
        fields["instruments"] = instrument
    if script is not None:
        fields["script"] = str(script.expanduser().resolve())
    step = build_config(TherapyStep, id="therapy", type="therapy", **fields)
    run, data = run_step(step, model, name="therapy", seed=seed, runs_dir=runs_dir, no_cache=no_cache, new=new)
    print_run(run, data, result_tables, json_out)
