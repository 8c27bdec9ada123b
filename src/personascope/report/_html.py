"""Building HTML fragments where escaping is the default.

Every string passed to `tag` or `esc` is escaped unless it is already `Html`, so
model text (untrusted) can only reach the page as text. Renderers compose `Html`
values and never format raw markup around data.
"""

import html
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any


_VOID = {"img", "br", "hr", "meta", "input", "link"}


class Html(str):
    """Markup that is safe to insert as is (built by these helpers)."""


def esc(value: Any) -> Html:
    if isinstance(value, Html):
        return value
    return Html(html.escape("" if value is None else str(value), quote=True))


def join(parts: Iterable[Any], sep: str = "") -> Html:
    return Html(esc(sep).join(esc(p) for p in parts))


def tag(name: str, /, *children: Any, **attrs: Any) -> Html:
    """`<name attrs>children</name>`; `class_` for `class`, `data_x` for `data-x`; None/False attrs are left out."""
    parts = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        key = key.rstrip("_").replace("_", "-")
        parts.append(f" {key}" if value is True else f' {key}="{esc(value)}"')
    if name in _VOID:
        return Html(f"<{name}{''.join(parts)}>")
    return Html(f"<{name}{''.join(parts)}>{join(children)}</{name}>")


def fmt(value: Any) -> str:
    """Numbers for people: 3 significant digits, whole numbers without a point."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if float(value).is_integer() and abs(value) < 1e9:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def ci(low: Any, high: Any) -> str:
    if low is None or high is None:
        return ""
    return f"[{fmt(low)}, {fmt(high)}]"


def when(stamp: str | None) -> str:
    """An ISO timestamp as `2026-11-27 14:47:18 UTC` (or as written if it is not ISO)."""
    if not stamp:
        return "—"
    try:
        parsed = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    zone = " UTC" if parsed.utcoffset() is not None and not parsed.utcoffset() else ""
    return parsed.strftime("%Y-%m-%d %H:%M:%S") + zone


def seconds(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "—"
    if value < 90:
        return f"{value:.1f} s"
    minutes, secs = divmod(int(round(value)), 60)
    return f"{minutes} min {secs:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def status_badge(status: str | None) -> Html:
    status = status or "unknown"
    kind = {"done": "ok", "failed": "bad", "interrupted": "bad", "running": "warn", "pending": "muted"}.get(status, "muted")
    return tag("span", status, class_=f"badge {kind}")


def table(head: Sequence[Any], rows: Iterable[Sequence[Any]], *, numeric: Sequence[int] = (), class_: str = "") -> Html:
    """A zebra table; columns listed in `numeric` are right-aligned."""
    num = set(numeric)
    thead = tag("thead", tag("tr", *(tag("th", h, class_="num" if i in num else None) for i, h in enumerate(head))))
    body = [tag("tr", *(tag("td", c, class_="num" if i in num else None) for i, c in enumerate(row))) for row in rows]
    return tag("div", tag("table", thead, tag("tbody", *body), class_=class_ or None), class_="table-wrap")


def dl(items: Iterable[tuple[Any, Any]]) -> Html:
    return tag("dl", *(Html(tag("dt", k) + tag("dd", v)) for k, v in items))


def note(*children: Any, kind: str = "info") -> Html:
    return tag("div", *children, class_=f"note {kind}")


def short_hash(value: Any, n: int = 12) -> Html:
    text = str(value)
    return tag("code", text[:n] + ("…" if len(text) > n else ""), title=text)
