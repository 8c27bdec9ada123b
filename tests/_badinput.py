"""A harness for table-driven bad-input tests of the CLI.

Each case runs the command in-process with typer's CliRunner, with every way of
loading a model patched to raise AssertionError: a bad input must be refused
before any model loads, as one `error:` line (exit code 2) that names the fix."""

from pathlib import Path

from typer.testing import CliRunner


def _no_model(*args, **kwargs):
    raise AssertionError(f"a model was loaded ({args[:1]}): bad input must be refused before that")


def patch_models(monkeypatch) -> None:
    """Make every way of loading weights raise. `get_model` itself loads nothing (a
    handle reads shapes from file headers), so it is left alone: patching it would
    leave the patched function bound in any module first imported during a case."""
    import personascope.models
    import personascope.models._checkpoint
    import personascope.models._embedded
    import personascope.models._load

    for module in (personascope.models, personascope.models._load):
        monkeypatch.setattr(module, "load_engine", _no_model)
    monkeypatch.setattr(personascope.models._embedded, "_convert", _no_model)
    monkeypatch.setattr(personascope.models._checkpoint, "load_weights", _no_model)


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        if name.endswith("/"):  # a folder
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def run_case(tmp_path: Path, monkeypatch, args: list[str], files: dict[str, str | bytes], expected: str, *, input: str | None = None):
    """Run `personascope ARGS` in `tmp_path` (with `files` written there) and assert it
    fails as a user error whose one `error:` line contains `expected`. `{tmp}` in an
    argument is replaced by `tmp_path`. Returns the CliRunner result."""
    from personascope.cli import app

    write_files(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERSONASCOPE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("PERSONASCOPE_HOME", str(tmp_path / "home"))
    patch_models(monkeypatch)
    argv = [str(a).replace("{tmp}", str(tmp_path)) for a in args]
    result = CliRunner().invoke(app, argv, input=input, catch_exceptions=True)
    out = result.output
    assert "Traceback" not in out, out
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{argv} raised {type(result.exception).__name__}: {result.exception}\n{out}") from result.exception
    assert result.exit_code == 2, f"{argv}: exit code {result.exit_code}\n{out}"
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, f"{argv}: expected one 'error:' line\n{out}"
    assert expected in errors[0], f"{argv}: {expected!r} not in {errors[0]!r}"
    return result
