"""The responses a vector is built from, and the result of an extraction.

Every generated or imported response is a `Sample`; `samples.jsonl` beside the
vector lists them all (question, system prompt, side, response, judge scores,
kept flag, projection) so a reader can audit what went into the vector.
"""

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from personascope._files import atomic_write
from personascope.vectors._vector import PersonaVector

SAMPLES = "samples.jsonl"
Side = Literal["positive", "negative"]


@dataclass
class Sample:
    """One response on one side of the contrast."""

    side: Side
    question: str
    response: str
    system: str | None = None
    split: Literal["extract", "eval"] = "extract"
    unit: str | None = None
    """Matches a positive with its negative (same pair, question and sample); None: unmatched."""
    pair: int | None = None
    """Index of the instruction pair whose system prompt produced it."""
    sample: int = 0
    prompt_text: str | None = None
    """A chat-formatted prompt as another tool rendered it; used verbatim when set."""
    trait: float | None = None
    coherence: float | None = None
    refusal: bool | None = None
    kept: bool | None = None
    projection: float | None = None
    """Projection on the vector at the chosen layer (response_mean, as the vector was built)."""
    finish_reason: str | None = None

    def messages(self, *, system: bool = True) -> list[dict[str, str]]:
        """The chat before the response; `system=False` leaves the system prompt out."""
        head = [{"role": "system", "content": self.system}] if system and self.system is not None else []
        return [*head, {"role": "user", "content": self.question}]

    def record(self) -> dict[str, Any]:
        """As one `samples.jsonl` line: unset fields left out, NaN written as null."""
        out = {}
        for k, v in asdict(self).items():
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            if v is not None or k in ("trait", "coherence", "kept"):
                out[k] = v
        return out


@dataclass
class ExtractResult:
    """A persona vector with every pooling, the samples behind it, and its metadata."""

    vector: PersonaVector
    """The default pooling (response_mean); `vector.meta` is what `meta.json` holds."""
    poolings: dict[str, "Any"]
    """Every pooling's `[n_layers, hidden]` tensor by name."""
    samples: list[Sample] = field(default_factory=list)

    @property
    def meta(self) -> dict[str, Any]:
        return self.vector.meta

    @property
    def layers(self) -> list[dict[str, Any]]:
        """Held-out quality per layer, `{layer, auroc, cohens_d}`, as read by the reading that chose the layer."""
        from personascope.vectors._quality import headline_layers

        return headline_layers(self.meta)

    @property
    def layers_text_only(self) -> list[dict[str, Any]]:
        """Held-out quality per layer from the response text alone (no system prompt)."""
        return self.meta.get("layers_text_only") or []

    @property
    def layers_in_context(self) -> list[dict[str, Any]]:
        """Held-out quality per layer with each response's eliciting system prompt in context."""
        return self.meta["layers"]

    @property
    def chosen_layer(self) -> int:
        return self.meta["chosen_layer"]

    def save(self, path: str | Path) -> Path:
        """Write the vector directory (`PersonaVector.load(path)` reads it) with `samples.jsonl`."""
        default = self.meta.get("pooling", "response_mean")
        path = self.vector.save(path, extra={p: t for p, t in self.poolings.items() if p != default})
        write_samples(path / SAMPLES, self.samples)
        return path


def write_samples(path: Path, samples: list[Sample]) -> None:
    atomic_write(path, "".join(json.dumps(s.record(), ensure_ascii=False) + "\n" for s in samples))


def read_samples(path: str | Path) -> list[dict[str, Any]]:
    """The records of a vector directory's `samples.jsonl` (empty if it has none)."""
    path = Path(path)
    file = path / SAMPLES if path.is_dir() else path
    if not file.is_file():
        return []
    return [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
