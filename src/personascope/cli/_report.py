from pathlib import Path

import typer


def report_command(
    run: str = typer.Argument(..., help="Run directory, run id (or a unique prefix of one), or 'latest'."),
    open_: bool = typer.Option(False, "--open", help="Open the report in the default web browser."),
    runs_dir: Path | None = typer.Option(None, "--runs-dir", help="Where run ids are looked up (default: $PERSONASCOPE_RUNS or ./runs)."),
) -> None:
    """(Re)build a run's self-contained HTML report and print its path."""
    import webbrowser

    from personascope.report import build_report
    from personascope.runs import resolve_run

    path = build_report(resolve_run(run, runs_dir))
    print(path)
    if open_:
        webbrowser.open(path.resolve().as_uri())
