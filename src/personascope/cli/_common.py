"""Shared CLI bits: quiet library logs, escaped model text."""

import os
import sys
import warnings

from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def quiet() -> None:
    """Hide transformers' load bars and warnings: they drown the output users came for."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore")
    if "transformers" not in sys.modules:
        # transformers reads these when imported; importing it just to configure it
        # would cost a second in commands that may never load a model.
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        return
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def model_text(text: str):
    """Model output is untrusted: show it as literal text (no rich markup, no escapes)."""
    from rich.text import Text

    return Text(text.replace("\x1b", "\\x1b"))
