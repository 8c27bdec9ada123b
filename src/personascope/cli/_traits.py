"""`personascope traits ...`: thin layers over `personascope.traits`."""

import typer

app = typer.Typer(help="Trait specs: list, show, validate, import and generate them.", no_args_is_help=True)
