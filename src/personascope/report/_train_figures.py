"""The checkpoint monitor's curves (`{arm: {seed: rows}}`): one panel per quantity
(loss, update norm, update cosine, each scorer, each projection shift) against the
global step, one colour per arm and one line style per seed. `monitor_png` is the
`monitor_figure` hook that `personascope.train.plot_monitor` draws through."""

import io
import math

from personascope.report._figures import COLORS, cached_figure, figure, finite, label, png
from personascope.report._html import Html

_STYLES = ("-", "--", ":", "-.")


def _series(monitor: dict) -> list[tuple[str, str, list[str]]]:
    """(title, y label, key path) of each panel: loss, update, cosine, then each scorer and projection shift."""
    rows = [r for seeds in monitor.values() for rs in seeds.values() for r in rs]
    panels = [("training loss", "loss", ["loss"]), ("update norm", "Frobenius norm", ["adapter_norm"]),
              ("cosine of successive updates", "cosine", ["update_cosine"])]
    for scorer in list(dict.fromkeys(k for r in rows for k in (r.get("scores") or {}))):
        panels.append((f"score: {scorer}", "mean score (0-100)", ["scores", scorer]))
    for spec in list(dict.fromkeys(k for r in rows for k in (r.get("projection_shift") or {}))):
        panels.append((f"projection shift: {spec}", "shift from the base", ["projection_shift", spec]))
    return panels


def _value(row: dict, path: list[str]) -> float:
    value = row
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return finite(value)


def _layout(monitor: dict) -> tuple[list, int, int]:
    panels = _series(monitor)
    ncols = min(3, len(panels))
    return panels, math.ceil(len(panels) / ncols), ncols


def _draw(fig, axes, monitor: dict, panels: list) -> None:
    """The curves: one panel per quantity, one colour per arm, one line style per seed."""
    flat = [ax for row in axes for ax in row]
    for ax, (title, ylabel, path) in zip(flat, panels):
        for a, (arm, seeds) in enumerate(monitor.items()):
            for s, (seed, rows) in enumerate(sorted(seeds.items(), key=lambda kv: str(kv[0]))):
                rows = sorted(rows, key=lambda r: r["global_step"])
                ax.plot([r["global_step"] for r in rows], [_value(r, path) for r in rows], marker="o", markersize=2.5,
                        linewidth=1.2, color=COLORS[a % len(COLORS)], linestyle=_STYLES[s % len(_STYLES)],
                        label=label(f"{arm} (seed {seed})"))
        ax.set_title(label(title))
        ax.set_ylabel(label(ylabel))
        ax.set_xlabel("global step")
        if path[0] == "scores":
            ax.set_ylim(-3, 103)  # scorers give 0-100: a fixed scale makes arms comparable
        elif path[0] == "update_cosine":
            ax.set_ylim(-1.05, 1.05)
    for ax in flat[len(panels):]:
        ax.set_visible(False)
    handles, labels = flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(4, max(len(labels), 1)), frameon=False, fontsize=8)


def monitor_png(monitor: dict) -> bytes:
    """The monitor curves of `{arm: {seed: rows}}` as PNG bytes (the `monitor_figure` hook)."""
    panels, nrows, ncols = _layout(monitor)
    with figure(3.4 * ncols, 2.5 * nrows + 0.4, nrows=nrows, ncols=ncols, squeeze=False) as (fig, axes):
        _draw(fig, axes, monitor, panels)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=150, metadata={"Software": None})
        return buf.getvalue()


@cached_figure
def monitor_figure(monitor: dict) -> Html:
    panels, nrows, ncols = _layout(monitor)
    with figure(3.4 * ncols, 2.5 * nrows + 0.4, nrows=nrows, ncols=ncols, squeeze=False) as (fig, axes):
        _draw(fig, axes, monitor, panels)
        return png(fig, "checkpoint monitor curves per arm: loss, update norm, scores and projection shifts against the global step")
