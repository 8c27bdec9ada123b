"""Where personascope keeps converted models and caches."""

import os
from pathlib import Path


def home() -> Path:
    """The personascope data directory: $PERSONASCOPE_HOME, else the XDG cache dir."""
    env = os.environ.get("PERSONASCOPE_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("personascope"))


def models_dir() -> Path:
    return home() / "models"
