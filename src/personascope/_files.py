"""Reading user files with errors that name the file and line."""

import json
from pathlib import Path
from typing import Any

from personascope.errors import PersonascopeError


def read_jsonl(path: Path) -> list[Any]:
    """One JSON value per non-blank line."""
    rows = []
    from personascope._yamlerrors import read_text

    for n, line in enumerate(read_text(path, "JSONL file").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise PersonascopeError(f"{path}:{n}: not valid JSON ({exc.msg}) (fix: one JSON object per line)") from None
    return rows
