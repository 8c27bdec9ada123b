"""`personascope selfchat run`: the `selfchat` step as a one-step study (`personascope.study.run_step`)."""

from pathlib import Path

import typer

from personascope.cli._common import JSON_OUT, NEW_RUN, NO_CACHE, RUNS_DIR, build_config, print_run, quiet

app = typer.Typer(help="Self-chat attractors: two copies of a model talk freely; where do they end up?", no_args_is_help=True)


def result_tables(data: dict) -> list:
    """Rich tables of a result's JSON: end-state frequencies, then the curves per turn."""
    from rich.markup import escape
    from rich.table import Table

    freq = Table(title=escape(f"{data['model']}: end states of {data['config']['seeds']} self-chats (95% bootstrap CI)"))
    for name in ("end state", "share", "95% CI", "count"):
        freq.add_column(name, justify="left" if name == "end state" else "right")
    for r in data["frequencies"]:
        freq.add_row(escape(r["category"]), f"{r['share']:.2f}", f"[{r['low']:.2f}, {r['high']:.2f}]", str(r["count"]))
    measures = list(dict.fromkeys(r["measure"] for r in data["curves"]))
    turns = Table(title="per turn: mean over seeds [95% CI]")
    turns.add_column("turn", justify="right")
    for m in measures:
        turns.add_column(escape(m), justify="right")
    by = {(r["measure"], r["turn"]): r for r in data["curves"]}
    for t in sorted({r["turn"] for r in data["curves"]}):
        cells = [by.get((m, t)) for m in measures]
        turns.add_row(str(t), *(f"{r['mean']:.3g} [{r['low']:.3g}, {r['high']:.3g}]" if r else "—" for r in cells))
    return [freq, turns]


@app.command("run")
def run_command(
    model: str = typer.Option("smollm2", "--model", "-m", help="Any model name: smollm2, hf/<path>, an Inspect model."),
    turns: int = typer.Option(10, help="Messages after the opening (the two copies alternate)."),
    seeds: int = typer.Option(8, help="Conversations, one per sampling seed."),
    project: list[str] = typer.Option([], "--project", "-p", help="VECTOR@LAYER to project every message on (repeatable)."),
    judge_model: str | None = typer.Option(None, "--judge-model", help="Judge of end states (default: the model itself)."),
    max_tokens: int = typer.Option(48, "--max-tokens", help="Length of each message."),
    temperature: float = typer.Option(1.0, help="Sampling temperature (0 needs --seeds 1)."),
    seed: int = typer.Option(0, help="Conversation k samples with seed SEED + k."),
    json_out: bool = JSON_OUT,
    runs_dir: Path = RUNS_DIR,
    no_cache: bool = NO_CACHE,
    new: bool = NEW_RUN,
) -> None:
    """Let two copies of MODEL talk freely and print how often their conversations
    end in each category, with the bliss score per turn.

    Writes a run directory (transcripts, end-state clusters, report.html)."""
    from personascope.conversations import SelfChatStep
    from personascope.study import run_step

    quiet()
    step = build_config(SelfChatStep, id="selfchat", type="selfchat", turns=turns, seeds=seeds, project=project,
                        judge_model=judge_model, max_tokens=max_tokens, temperature=temperature)
    run, data = run_step(step, model, name="selfchat", seed=seed, runs_dir=runs_dir, no_cache=no_cache, new=new)
    print_run(run, data, result_tables, json_out)
