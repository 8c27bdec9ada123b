"""`personascope drift run`: the `drift` step as a one-step study (`personascope.study.run_step`)."""

from pathlib import Path

import typer

from personascope.cli._common import JSON_OUT, NEW_RUN, NO_CACHE, RUNS_DIR, WAIT_RUN, build_config, print_run, quiet

app = typer.Typer(help="Persona drift over long conversations: per-turn projections and probes.", no_args_is_help=True)


def _thresholds(pairs: list[str]) -> dict[str, float]:
    from personascope.errors import PersonascopeError

    out = {}
    for pair in pairs:
        key, sep, value = pair.rpartition("=")
        try:
            out[key] = float(value)
        except ValueError:
            sep = ""
        if not sep or not key:
            raise PersonascopeError(f"--threshold takes MEASURE=NUMBER (e.g. v@20=-3.5), not {pair!r}")
    return out


@app.command("run")
def run_command(
    model: str = typer.Option("smollm2", "--model", "-m", help="Any model name: smollm2, hf/<path>, an Inspect model."),
    family: list[str] = typer.Option([], "--family", "-f", help="Conversation family (repeatable; default coding, therapy, consciousness)."),
    conversations: int = typer.Option(4, help="Conversations per family."),
    turns: int = typer.Option(6, help="Assistant turns per conversation."),
    project: list[str] = typer.Option([], "--project", "-p", help="VECTOR@LAYER to project every reply on (repeatable)."),
    threshold: list[str] = typer.Option([], help="MEASURE=NUMBER: report when each conversation first passes it."),
    steer: list[str] = typer.Option([], help="VECTOR@LAYERS:COEF for a steered arm (repeatable)."),
    cap: list[str] = typer.Option([], help="VECTOR@LAYERS:MIN:MAX[:POSITIONS] for a capped arm (repeatable)."),
    compare: bool = typer.Option(False, "--compare", help="Also run the plain model and report differences."),
    script: Path = typer.Option(None, help="A families YAML file (adds or replaces families)."),
    user_model: str | None = typer.Option(None, "--user-model", help="A model that plays the user after turn 1."),
    system: str | None = typer.Option(None, help="The target's system prompt."),
    no_probes: bool = typer.Option(False, "--no-probes", help="Skip the probe questions."),
    max_tokens: int = typer.Option(64, "--max-tokens", help="Reply length."),
    probe_tokens: int = typer.Option(32, "--probe-tokens", help="Length of each probe answer."),
    temperature: float = typer.Option(0.0),
    top_p: float = typer.Option(1.0, "--top-p", help="Nucleus sampling (with --temperature above 0)."),
    seed: int = typer.Option(0),
    json_out: bool = JSON_OUT,
    runs_dir: Path = RUNS_DIR,
    no_cache: bool = NO_CACHE,
    new: bool = NEW_RUN,
    wait: bool = WAIT_RUN,
) -> None:
    """Converse turn by turn and print each measure's per-turn means and drift slopes.

    Writes a run directory (transcripts with per-turn projections, report.html)."""
    from personascope.conversations._drift import result_tables
    from personascope.conversations import DriftStep
    from personascope.protocol import arms_from_specs
    from personascope.study import run_step

    quiet()
    fields = dict(conversations=conversations, turns=turns, project=project, thresholds=_thresholds(threshold),
                  user_model=user_model, system=system, max_tokens=max_tokens, probe_tokens=probe_tokens, temperature=temperature, top_p=top_p)
    if family:
        fields["families"] = family
    if script is not None:
        fields["script"] = str(script.expanduser().resolve())
    if no_probes:
        fields["probes"] = []
    arms = arms_from_specs(steer=steer, cap=cap, compare=compare)
    fields["arms"] = arms
    step = build_config(DriftStep, id="drift", type="drift", **fields)
    run, data = run_step(step, model, name="drift", seed=seed, runs_dir=runs_dir, no_cache=no_cache, new=new, wait=wait)
    print_run(run, data, result_tables, json_out)
