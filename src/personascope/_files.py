"""Reading user files with errors that name the file and line; writing files atomically."""

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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


def file_mode(directory: bool = False) -> int:
    """The mode `open()` or `mkdir()` would give: 0666 (0777 for a directory) less the umask."""
    # The umask can only be read by setting it; it is put back at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


@contextmanager
def atomic_path(path: Path, prefix: str | None = None) -> Iterator[Path]:
    """A temporary path beside `path` to write to; on success it replaces `path`, so a
    killed run leaves the old file or the new one, never half of one. The file gets
    the usual mode (mkstemp's are private, 0600; results are for sharing)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix or f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: Path, data: str | bytes, prefix: str | None = None) -> None:
    """Write `data` (text as UTF-8) to `path` through `atomic_path`."""
    with atomic_path(path, prefix) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
