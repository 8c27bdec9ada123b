"""API (black-box) models through Inspect: the client is installed, calls give up
within bounded time with the whole error, and a failed call fails its run. Hub ids
(`hf/<org>/<name>`) load from the local Hugging Face cache or fail at once.

Every network call goes to a closed port on 127.0.0.1, so these pass offline."""

import contextlib
import json
import signal
import socket

import pytest

from personascope.errors import PersonascopeError
from personascope.models._inspect import api_settings, error_text

needs_client = pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("openai") is None,
    reason="the API extra (pip install 'personascope[api]') is not installed",
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _deadline(seconds: int):
    """Fail instead of hanging: a hang is the bug these tests guard against."""

    def expired(signum, frame):
        raise TimeoutError(f"still waiting after {seconds} s: the API call did not give up")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _unreachable() -> dict:
    return {"name": "openai/gpt-4o-mini",
            "args": {"base_url": f"http://127.0.0.1:{_closed_port()}/v1", "api_key": "dummy", "timeout": 2, "max_retries": 0}}


def test_the_api_clients_are_installed():
    from importlib.metadata import version

    from packaging.version import Version

    # The versions Inspect's providers ask for (the api extra in pyproject.toml).
    assert Version(version("openai")) >= Version("3.4") and Version(version("anthropic")) >= Version("2.0")


@needs_client
def test_an_unreachable_api_model_fails_the_run_with_a_clear_error(tmp_path):
    from personascope.study import run_step

    step = {"id": "eval", "type": "eval", "suite": "trait", "options": {"trait": "evil"}, "limit": 2}
    with _deadline(60), pytest.raises(PersonascopeError) as caught:
        run_step(step, {"model": _unreachable()}, runs_dir=tmp_path, progress=False, no_cache=True)
    message = str(caught.value)
    assert "openai/gpt-4o-mini failed to generate" in message and "Connection error" in message
    assert "max_retries=0" in message and "timeout=2 s" in message
    [run_dir] = tmp_path.iterdir()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["finished"]
    entry = manifest["steps"]["eval"]
    assert entry["status"] == "failed" and "Connection error" in entry["error"]
    # Transport settings and the key stay out of what the manifest records.
    assert set(manifest["models"]["model"]["args"]) == {"base_url"}


def test_settings_come_from_args_then_environment_then_defaults(monkeypatch):
    monkeypatch.delenv("PERSONASCOPE_API_TIMEOUT", raising=False)
    monkeypatch.setenv("PERSONASCOPE_API_MAX_RETRIES", "7")
    args, settings = api_settings({"base_url": "x", "timeout": 9})
    assert args == {"base_url": "x"}
    assert settings == {"timeout": 9, "attempt_timeout": 120, "max_retries": 7}
    monkeypatch.setenv("PERSONASCOPE_API_TIMEOUT", "soon")
    with pytest.raises(PersonascopeError, match="PERSONASCOPE_API_TIMEOUT must be a whole number"):
        api_settings({})
    monkeypatch.delenv("PERSONASCOPE_API_TIMEOUT")
    with pytest.raises(PersonascopeError, match="model arg attempt_timeout must be above 0"):
        api_settings({"attempt_timeout": 0})


def test_error_text_keeps_every_line_and_drops_markup():
    exc = RuntimeError("[bold]ERROR[/bold]: Foo API requires optional dependencies. Install with:\n\n[bold]pip install foo[/bold]")
    assert error_text(exc) == "RuntimeError: ERROR: Foo API requires optional dependencies. Install with: pip install foo"
    try:
        try:
            raise OSError("refused")
        except OSError as inner:
            raise ValueError("connection error") from inner
    except ValueError as outer:
        assert error_text(outer) == "ValueError: connection error (OSError: refused)"


def test_a_missing_client_names_the_install_command(monkeypatch):
    from personascope.models._inspect import inspect_model

    def missing(*args, **kwargs):
        raise RuntimeError("[bold]ERROR[/bold]: OpenAI API requires optional dependencies. Install with:\n\n[bold]pip install openai[/bold]")

    monkeypatch.setattr("inspect_ai.model.get_model", missing)
    with pytest.raises(PersonascopeError, match=r"Install with: pip install openai; pip install 'personascope\[api\]'"):
        inspect_model("openai/gpt-4o-mini", {})


@pytest.fixture
def hub(monkeypatch, tmp_path):
    """An empty Hugging Face cache in tmp_path, downloads allowed, the hub at a closed port."""
    from huggingface_hub import constants

    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    return tmp_path / "hub"


def test_a_hub_id_that_is_nowhere_fails_at_once(hub, monkeypatch):
    from personascope.models import get_model

    with _deadline(30), pytest.raises(PersonascopeError) as caught:
        get_model("hf/no-such-org/no-such-model").n_layers()
    message = str(caught.value)
    assert "neither a directory nor in the local Hugging Face cache" in message and str(hub) in message
    assert "the hub cannot be reached" in message and "HF_HUB_OFFLINE=1" in message
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(PersonascopeError, match=r"downloads are off \(HF_HUB_OFFLINE\).*hf download no-such-org/no-such-model"):
        get_model("hf/no-such-org/no-such-model").n_layers()


def test_a_cached_hub_id_loads_from_the_cache(hub, tiny_dir, monkeypatch):
    import shutil

    from personascope.models import get_model

    repo = hub / "models--some-org--tiny"
    shutil.copytree(tiny_dir, repo / "snapshots" / "0123abcd")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = get_model("hf/some-org/tiny")
    assert model.checkpoint().source == str(repo / "snapshots" / "0123abcd")
    assert model.fingerprint()["weights"] == "hub:some-org/tiny"
    assert model.engine.n_layers == 4


@needs_client
def test_a_server_that_never_answers_is_abandoned_after_attempt_timeout():
    from personascope.models import generate

    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        args = {"base_url": f"http://127.0.0.1:{silent.getsockname()[1]}/v1", "api_key": "dummy",
                "timeout": 5, "attempt_timeout": 1, "max_retries": 0}
        with _deadline(30), pytest.raises(PersonascopeError, match="attempt_timeout '1' exceeded"):
            generate("openai/gpt-4o-mini", ["hello"], model_args=args)
