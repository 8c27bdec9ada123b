"""Shared CLI bits: quiet library logs, escaped model text."""

import os
import warnings

from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def quiet() -> None:
    """Hide transformers' load bars and warnings: they drown the output users came for."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore")
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def model_text(text: str):
    """Model output is untrusted: show it as literal text (no rich markup, no escapes)."""
    from rich.text import Text

    return Text(text.replace("\x1b", "\\x1b"))
