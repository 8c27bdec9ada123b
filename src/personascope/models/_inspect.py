"""Black-box models through Inspect: building the client, bounded retries, and errors
that keep the whole fix.

Inspect retries transient errors forever unless told otherwise, so an unreachable
endpoint or a bad key would hang a run; every call here carries a total timeout,
a per-attempt timeout and a retry limit. Each comes from the model's args
(`timeout`, `attempt_timeout`, `max_retries`), else from the environment
(`PERSONASCOPE_API_TIMEOUT`, `PERSONASCOPE_API_ATTEMPT_TIMEOUT`,
`PERSONASCOPE_API_MAX_RETRIES`), else from the defaults below.
"""

import os
from typing import Any

from personascope.errors import PersonascopeError

API_SETTINGS = {
    # arg: (environment variable, default)
    "timeout": ("PERSONASCOPE_API_TIMEOUT", 300),
    "attempt_timeout": ("PERSONASCOPE_API_ATTEMPT_TIMEOUT", 120),
    "max_retries": ("PERSONASCOPE_API_MAX_RETRIES", 3),
}
"""Transport settings: they bound waiting and change no output, so they are kept out
of fingerprints and cache keys."""

INSTALL_HINT = "pip install 'personascope[api]' installs the OpenAI and Anthropic clients"


def api_settings(model_args: dict) -> tuple[dict[str, Any], dict[str, int]]:
    """`(args for get_model, {timeout, attempt_timeout, max_retries})` from a model's args."""
    args = dict(model_args)
    settings = {}
    for name, (env, default) in API_SETTINGS.items():
        value = args.pop(name, None)
        source = f"model arg {name}"
        if value is None and os.environ.get(env, "").strip():
            value, source = os.environ[env].strip(), env
        try:
            value = default if value is None else int(value)
        except (TypeError, ValueError):
            raise PersonascopeError(f"{source} must be a whole number of seconds or retries, not {value!r}") from None
        if value < 0 or (value == 0 and name != "max_retries"):
            raise PersonascopeError(f"{source} must be {'0 or more' if name == 'max_retries' else 'above 0'}, not {value}")
        settings[name] = value
    return args, settings


def error_text(exc: BaseException) -> str:
    """An exception as one line that keeps all of its message (the install command or
    fix a library prints on a later line) and the underlying cause of a retry error."""
    last = getattr(exc, "last_attempt", None)  # tenacity's RetryError wraps the real error
    if last is not None and last.failed:
        exc = last.exception()
    parts = []
    seen: BaseException | None = exc
    while seen is not None and len(parts) < 3:
        parts.append(_one_line(seen))
        seen = seen.__cause__
    head, *causes = parts
    for cause in dict.fromkeys(causes):  # httpx repeats its transport's error as its own
        head += f" ({cause})" if cause.split(": ", 1)[-1] not in head else ""
    return head


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    try:  # Inspect writes its messages in rich markup ("[bold]pip install openai[/bold]")
        from rich.text import Text

        text = Text.from_markup(text).plain
    except Exception:
        pass
    text = " ".join(line.strip() for line in text.splitlines() if line.strip())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def inspect_model(target: str, model_args: dict):
    """Inspect's model for `target` and the generation limits to use with it."""
    from inspect_ai.model import get_model

    args, settings = api_settings(model_args)
    try:
        api = get_model(target, **args)
    except Exception as exc:  # Inspect raises several types for unknown providers / missing keys
        text = error_text(exc)
        hint = f"; {INSTALL_HINT}" if "pip install" in text else ""
        raise PersonascopeError(f"cannot use Inspect model {target}: {text}{hint}") from exc
    return api, settings


def generate_failed(target: str, exc: BaseException, settings: dict[str, int]) -> PersonascopeError:
    """The user error for a call that failed after Inspect's retries."""
    return PersonascopeError(
        f"{target} failed to generate: {error_text(exc)} (gave up within max_retries={settings['max_retries']}, "
        f"timeout={settings['timeout']} s, attempt_timeout={settings['attempt_timeout']} s; check the network, "
        "the API key and base_url, or raise the limits with the model args or PERSONASCOPE_API_* variables)"
    )
