"""Report sections, registered by step type like the step types themselves (in the
one registry, `personascope.registry`, kind `section`).

A section renderer takes a `StepView` (everything one step left in the run) and
returns an HTML fragment. The report wraps it in the step's header (status, time,
cache, error), so a renderer only shows what is particular to its type.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from personascope.store import Artifact, Metric, Transcript

Renderer = Callable[["StepView"], str]


@dataclass
class StepView:
    """One step of a run, as a section renderer sees it."""

    id: str
    type: str
    config: dict[str, Any]
    """The step's resolved config (`manifest["config"]["steps"]`)."""
    entry: dict[str, Any]
    """The step's manifest entry: status, seconds, cache, error, ..."""
    run_dir: Path
    transcripts: list[Transcript] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)

    def artifact(self, name: str) -> Artifact | None:
        return next((a for a in self.artifacts if a.name == name), None)

    def json_artifacts(self) -> list[dict]:
        """The step's JSON artifacts that exist on disk, loaded (one per model, say)."""
        import json

        paths = [self.run_dir / a.path for a in self.artifacts if a.kind == "json"]
        return [json.loads(p.read_text()) for p in paths if p.is_file()]

    def artifact_path(self, name: str) -> Path | None:
        """Where the artifact `name` lies on disk (None if the step recorded none)."""
        found = self.artifact(name)
        return self.run_dir / found.path if found else None


def section(type_name: str, *, replace: bool = False) -> Callable[[Renderer], Renderer]:
    """Register `render(view) -> str` as the report section of step type `type_name`.

    A type that already has a section is an error unless `replace`: a plugin that
    restyles a built-in type says so (`@section("eval", replace=True)`). Model text
    in the returned HTML must be escaped by the renderer (`html.escape`, or the
    helpers in `personascope.report._html`).
    """
    from personascope import registry

    def register(func: Renderer) -> Renderer:
        return registry.register("section", type_name, func, replace=replace)

    return register


def renderer_for(type_name: str) -> Renderer:
    """The section registered for `type_name`, else the default section."""
    from personascope import registry
    from personascope.report._default import default_section

    if type_name in registry.names("section"):
        return registry.get("section", type_name)
    if registry.is_ref(type_name):
        # A step type given as `module:Class`: importing it registers its section
        # under the name the class registered itself with.
        try:
            cls = registry.resolve_ref(type_name)
        except Exception:  # the report still builds when user code has gone
            return default_section
        names = [name for name, entry in registry.entries("step").items() if entry is cls]
        for name in names:
            if name in registry.names("section"):
                return registry.get("section", name)
    return default_section
