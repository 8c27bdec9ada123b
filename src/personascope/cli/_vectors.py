"""`personascope vectors extract|show`: thin layers over `personascope.vectors`."""

import typer

app = typer.Typer(help="Persona vectors: extract, inspect, sweep, project and compare them.", no_args_is_help=True)
