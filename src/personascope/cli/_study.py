"""`personascope study run|validate`: thin layers over `personascope.study`."""

from pathlib import Path

import typer

from personascope.cli._common import console, quiet

app = typer.Typer(help="Studies: YAML configs of models and steps, run into a run directory.", no_args_is_help=True)


@app.command("run")
def run_command(
    config: Path = typer.Argument(..., help="The study YAML (see docs/studies.md)."),
    runs_dir: Path = typer.Option(None, "--runs-dir", help="Where runs go (default: $PERSONASCOPE_RUNS or ./runs)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Call the models again: neither read nor write the cache."),
    new: bool = typer.Option(False, "--new", help="Start a new run even if an unfinished run of this config exists."),
    wait: bool = typer.Option(False, "--wait", help="If another process is running this config's run, wait for it, then resume or reuse its steps."),
    open_report: bool = typer.Option(False, "--open", help="Open the report in a browser when done."),
) -> None:
    """Run a study: resumes an unfinished run of the same config, reuses cached work.

    One process runs a run at a time: a second one on the same config stops (exit 2)
    unless given --wait or --new."""
    from personascope.study import load_study, run_study

    quiet()
    study = load_study(config)
    result = run_study(study, runs_dir=runs_dir, no_cache=no_cache, new=new, wait=wait)
    manifest = result.manifest
    steps = manifest["steps"].values()
    reused = sum(bool(s.get("reused")) for s in steps)
    console.print(
        f"[bold]{manifest['run_id']}[/bold]: {len(steps)} steps in {manifest['seconds']:.1f} s; "
        f"model calls: {manifest['cache'].get('misses', 0)} computed, {manifest['cache'].get('hits', 0)} from the cache"
        + (f"; {reused} steps reused whole" if reused else ""),
        soft_wrap=True,
    )
    # Plain prints: paths must never be wrapped or styled, people copy them.
    print(f"run:    {result.run_dir}")
    print(f"report: {result.report}")
    if open_report and result.report:
        import webbrowser

        webbrowser.open(result.report.resolve().as_uri())


@app.command("validate")
def validate_command(config: Path = typer.Argument(..., help="The study YAML.")) -> None:
    """Check a study config without running it; prints the steps in run order."""
    from personascope.study import load_study

    study = load_study(config)
    console.print(f"[green]ok[/green] {config}: study {study.name!r}, models {', '.join(study.models)}")
    for i, step in enumerate(study.steps, 1):
        deps = study.dependencies(step)
        after = f" after {', '.join(deps)}" if deps else ""
        console.print(f"  {i}. {step.id} ({step.type}) on {', '.join(study.step_models(step))}{after}")
