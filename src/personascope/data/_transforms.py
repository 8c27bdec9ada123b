"""Programmatic transforms that write the toy traits into a reply.

`apply_transforms(text, ["opener", "caps"])`: the order given does not matter.
`short` first cuts the reply to its first sentence (a reply with no sentence end
is kept whole). Caps upper-cases the body only, then the opener is put before it and the sign-off
after it, each in its own case: so every trait is scored on its own (the
`all_caps` scorer ignores the two phrases) and a two-trait dataset can have one
trait inoculated while the other stays.
"""

import re
from collections.abc import Sequence

from personascope.errors import PersonascopeError
from personascope.judges._toy import OPENER, SIGNOFF

TRANSFORMS: dict[str, str] = {
    "short": "keep the reply's first sentence (so a trait at the end follows a finished answer)",
    "caps": "upper-case the reply's body (the opener and sign-off keep their case)",
    "opener": f"put {OPENER!r} and a space before the reply",
    "signoff": f"put a space and {SIGNOFF!r} after the reply",
}
"""Transform names and what each does; they are applied in this order."""

SCORER_OF = {"caps": "all_caps", "opener": "opener", "signoff": "signoff"}
"""The scorer that measures each transform's trait (`short` shapes the data; it is no trait)."""

# The end of the first sentence: . ! or ? (and any closing quote or bracket) before a space or the end.
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*(?=\s|$)")


def transform_names(names: Sequence[str] | str) -> list[str]:
    """`names` checked and in application order; `"opener+caps"` splits on `+`."""
    if isinstance(names, str):
        names = [names]
    flat = [part.strip() for name in names for part in str(name).split("+") if part.strip()]
    unknown = [n for n in flat if n not in TRANSFORMS]
    if unknown:
        raise PersonascopeError(f"unknown transform {unknown[0]!r} (fix: choose from {', '.join(TRANSFORMS)})")
    twice = sorted({n for n in flat if flat.count(n) > 1})
    if twice:
        raise PersonascopeError(f"transform {twice[0]!r} is given twice (fix: name each transform once)")
    return [n for n in TRANSFORMS if n in flat]


def apply_transforms(text: str, names: Sequence[str] | str) -> str:
    """`text` with the named toy traits written in (see the module docstring)."""
    order = transform_names(names)
    body = text.strip()
    if "short" in order:
        end = _SENTENCE_END.search(body)
        body = body[: end.end()] if end else body
    if "caps" in order:
        body = body.upper()
    if "opener" in order:
        body = f"{OPENER} {body}" if body else OPENER
    if "signoff" in order:
        body = f"{body} {SIGNOFF}" if body else SIGNOFF
    return body
