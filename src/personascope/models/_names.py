"""One way to name a model: `smollm2`, `gemma3-base`, `hf/<path-or-id>`, `run:<RUN>/<artifact>`, or any
Inspect model string."""

from typing import Literal

from pydantic import BaseModel

from personascope.errors import PersonascopeError

EMBEDDED = "smollm2"
BASE_EMBEDDED = "gemma3-base"
EMBEDDED_NAMES = (EMBEDDED, BASE_EMBEDDED)

Kind = Literal["embedded", "hf", "run", "inspect"]


class ModelRef(BaseModel, frozen=True):
    """A parsed model name."""

    name: str
    """The name as the user wrote it (without a `personascope/` prefix)."""
    kind: Kind
    """`embedded`, `hf` and `run` are white-box (the engine); `inspect` is black-box."""
    target: str
    """For `hf`: the local path or hub id; for `run`: `<RUN>/<artifact path>` (resolved
    when the model is used, so `latest` follows new runs); for `inspect`: the Inspect
    model string."""

    @property
    def white_box(self) -> bool:
        return self.kind != "inspect"


def parse_model_name(name: str) -> ModelRef:
    """Parse a model name, or fail with a message that lists the accepted forms."""
    name = name.strip()
    # `personascope/<name>` is how Inspect addresses our engine; accept it here too.
    if name.startswith("personascope/"):
        name = name.removeprefix("personascope/")
    if name in EMBEDDED_NAMES:
        return ModelRef(name=name, kind="embedded", target=name)
    if name.startswith("hf/"):
        target = name.removeprefix("hf/")
        if not target:
            raise PersonascopeError("model 'hf/' names no model: write hf/<local path or hub id>")
        return ModelRef(name=name, kind="hf", target=target)
    if name.startswith("run:"):
        target = name.removeprefix("run:").rstrip("/")
        if "/" not in target:
            raise PersonascopeError(
                f"model {name!r} names no artifact: write run:<run dir, run id or latest>/<artifact path>"
            )
        return ModelRef(name=name, kind="run", target=target)
    provider, sep, rest = name.partition("/")
    if sep and provider and rest:
        return ModelRef(name=name, kind="inspect", target=name)
    raise PersonascopeError(
        f"unknown model {name!r}: use 'smollm2' or 'gemma3-base' (embedded), 'hf/<local path or hub id>', "
        "'run:<RUN>/<artifact path>', or an Inspect model string such as 'openai/gpt-4o-mini' or 'vllm/<model>'"
    )
