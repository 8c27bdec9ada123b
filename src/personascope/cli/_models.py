import json

import typer
from rich.markup import escape

from personascope.cli._common import console, quiet

app = typer.Typer(help="Model names: list the kinds, show one model's shape.", no_args_is_help=True)


@app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The model names personascope understands."""
    from rich.table import Table

    from personascope.models import list_models

    rows = list_models()
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("name", "kind", "status", "source")
    for row in rows:
        table.add_row(row["name"], row["kind"], row["status"], row["source"])
    console.print(table)


@app.command("show")
def show_command(
    name: str = typer.Argument(
        ..., help="smollm2, gemma3-base, hf/<path-or-id> (a checkpoint or a PEFT adapter dir), run:<RUN>/<artifact>, or an Inspect model string."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    dtype: str = typer.Option("auto", help="auto, float32, bfloat16 or float16."),
) -> None:
    """Architecture, layers, hidden size, dtype, chat template or document frame of a model."""
    from personascope.models import get_model, model_info

    model = get_model(name, dtype=dtype)
    if model.white_box:
        quiet()
        info = model_info(model.engine)
    else:
        info = {"name": model.name, "kind": "black-box (Inspect)", "provider": model.ref.target.split("/")[0]}
    if as_json:
        print(json.dumps(info, indent=2, sort_keys=True))
        return
    for key, value in info.items():
        console.print(f"[bold]{key}[/bold]: {escape(str(value))}", highlight=False)
