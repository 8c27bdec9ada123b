"""`personascope <noun> <verb>`: each command is a thin layer over a public function."""

import functools
import sys

import typer

from personascope.errors import PersonascopeError

app = typer.Typer(
    name="personascope",
    help="Define a persona trait once; measure, steer and monitor it in behaviour and activations.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from personascope import __version__

        print(f"personascope {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Define a persona trait once; measure, steer and monitor it in behaviour and activations."""


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


def _add(sub: typer.Typer, name: str) -> None:
    for command in sub.registered_commands:
        command.callback = user_errors(command.callback)
    app.add_typer(sub, name=name)


def _register() -> None:
    from personascope.cli import _chat, _data, _demo, _drift, _eval, _generate, _models, _report, _rtt, _runs, _selfchat, _study, _therapy, _traits, _train, _vectors
    from personascope.cli import _vectors_analysis  # noqa: F401  (its commands join _vectors.app)

    _add(_models.app, "models")
    app.command("generate")(user_errors(_generate.generate_command))
    app.command("chat")(user_errors(_chat.chat_command))
    app.command("demo")(user_errors(_demo.demo_command))
    _add(_traits.app, "traits")
    _add(_vectors.app, "vectors")
    _add(_study.app, "study")
    _add(_runs.app, "runs")
    app.command("report")(user_errors(_report.report_command))
    app.command("eval")(user_errors(_eval.eval_command))
    _add(_drift.app, "drift")
    _add(_therapy.app, "therapy")
    _add(_rtt.app, "rtt")
    _add(_selfchat.app, "selfchat")
    _add(_data.app, "data")
    _add(_train.app, "train")


_register()


def main() -> None:
    # One program name however it was started (`python -m personascope` too), so
    # completion scripts and usage lines name the `personascope` command.
    app(prog_name="personascope")
