"""Shared CLI bits: quiet library logs, escaped model text."""

import os
import sys
import warnings

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def quiet() -> None:
    """Hide transformers' load bars and warnings: they drown the output users came for."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore")
    if "transformers" not in sys.modules:
        # transformers reads these when imported; importing it just to configure it
        # would cost a second in commands that may never load a model.
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        return
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def model_text(text: str):
    """Model output is untrusted: show it as literal text (no rich markup, no escapes)."""
    from rich.text import Text

    return Text(text.replace("\x1b", "\\x1b"))


def build_config(cls, **fields):
    """`cls(**fields)`, with pydantic's errors turned into one user error line."""
    from pydantic import ValidationError

    from personascope.errors import PersonascopeError

    try:
        return cls(**fields)
    except ValidationError as exc:
        raise PersonascopeError("; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
        )) from None


def print_run(run, data: dict, tables, json_out: bool) -> None:
    """A one-step study's result: its JSON, or its tables and where the run and report are."""
    import json

    if json_out:
        print(json.dumps(data, indent=1))
        return
    for table in tables(data):
        console.print(table)
    # Plain prints: paths must never be wrapped or styled, people copy them.
    print(f"run:    {run.run_dir}")
    print(f"report: {run.report}")


# Options every one-step-study command (`eval`, `drift run`, ...) shares.
JSON_OUT = typer.Option(False, "--json", help="Print the result as JSON.")
RUNS_DIR = typer.Option(None, "--runs-dir", help="Where the run goes (default: $PERSONASCOPE_RUNS or ./runs).")
NO_CACHE = typer.Option(False, "--no-cache", help="Neither read nor write the call cache.")
NEW_RUN = typer.Option(False, "--new", help="Start a new run even if an unfinished one exists.")
WAIT_RUN = typer.Option(False, "--wait", help="If another process is running this run, wait for it, then resume or reuse it.")
ALLOW_OTHER_MODEL = typer.Option(
    False, "--allow-other-model",
    help="Apply vectors whose meta.json names another model than --model (by default an error).",
)


def check_specs(steer=(), ablate=(), cap=()) -> None:
    """Parse `--steer/--ablate/--cap` first: a typo is reported at once, not after a model load."""
    from personascope.engine import InterventionSpec

    InterventionSpec.parse(steer, ablate, cap)
