"""`manifest.json`: what ran, with what, how long it took, and how it ended."""

import json
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from personascope._files import atomic_write
from personascope._runsdir import MANIFEST

SCHEMA_VERSION = 1
_PACKAGES = ("personascope", "torch", "transformers", "inspect_ai", "pydantic", "numpy")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def git_state(folder: Path) -> dict[str, Any] | None:
    """The commit (and whether the tree has changes) of the repository holding `folder`."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=folder, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"sha": sha, "dirty": bool(dirty)}


def read_manifest(run_dir: Path) -> dict:
    from personascope.errors import PersonascopeError

    path = Path(run_dir) / MANIFEST
    if not path.is_file():
        raise PersonascopeError(f"{run_dir} is not a run directory (no {MANIFEST})")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise PersonascopeError(f"{path} is not valid JSON ({exc.msg})") from None


def write_manifest(run_dir: Path, manifest: dict) -> None:
    """Write atomically: readers see the old or the new manifest, never half of one."""
    # Key order kept: arms and steps stay in the order the config gave them.
    atomic_write(Path(run_dir) / MANIFEST, json.dumps(manifest, indent=2, default=str), prefix=".manifest-")
