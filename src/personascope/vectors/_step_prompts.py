"""Prompts as steps take them: an inline list, or a file beside the config."""

from pathlib import Path

from personascope.engine._chat import Prompt

PromptSource = list[str] | str
"""A list of user messages, or a path (JSONL with `prompt`/`messages`, or one prompt a line)."""


def check_prompt_source(source: PromptSource, base_dir: Path) -> list[tuple[str, str]]:
    """(problem, fix) for a prompt file that does not exist or does not read as prompts."""
    from personascope.errors import PersonascopeError
    from personascope.models import read_prompts

    if not isinstance(source, str):
        return []
    if not (base_dir / source).is_file():
        return [(f"no prompts file {source!r} (relative to {base_dir})", "fix the path or list the prompts inline")]
    try:
        read_prompts(str(base_dir / source))
    except PersonascopeError as exc:
        problem, _, fix = str(exc).rpartition(" (fix: ")
        return [(problem or str(exc), fix.removesuffix(")") or "see docs/studies.md")]
    return []


def load_prompts(source: PromptSource, base_dir: Path) -> list[tuple[str, Prompt]]:
    """(sample id, prompt) pairs; ids come from an `id` field or the position."""
    if isinstance(source, list):
        return [(f"q{i:03d}", p) for i, p in enumerate(source)]
    from personascope.models import read_prompts

    records = read_prompts(str(base_dir / source))
    return [
        (str(r.get("id", f"q{i:03d}")), r["messages"] if "messages" in r else r["prompt"])
        for i, r in enumerate(records)
    ]
