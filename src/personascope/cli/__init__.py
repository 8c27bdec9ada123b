"""`personascope <noun> <verb>`: each command is a thin layer over a public function."""

import functools
import sys

import typer

from personascope.errors import PersonascopeError

app = typer.Typer(
    name="personascope",
    help="Define a persona trait once; measure, steer and monitor it in behaviour and activations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def user_errors(func):
    """User errors print one line (`error: ...`) and exit 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except PersonascopeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(2) from None

    return wrapper


def _register() -> None:
    from personascope.cli import _chat, _demo, _generate, _models

    for command in _models.app.registered_commands:
        command.callback = user_errors(command.callback)
    app.add_typer(_models.app, name="models")
    app.command("generate")(user_errors(_generate.generate_command))
    app.command("chat")(user_errors(_chat.chat_command))
    app.command("demo")(user_errors(_demo.demo_command))

    from personascope.cli import _study

    for command in _study.app.registered_commands:
        command.callback = user_errors(command.callback)
    app.add_typer(_study.app, name="study")

    from personascope.cli import _runs

    for command in _runs.app.registered_commands:
        command.callback = user_errors(command.callback)
    app.add_typer(_runs.app, name="runs")

    from personascope.cli import _report

    app.command("report")(user_errors(_report.report_command))


_register()


def main() -> None:
    app()
