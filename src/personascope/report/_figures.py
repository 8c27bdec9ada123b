"""Figures as inline PNG images.

matplotlib's object API (`Figure`, no pyplot) renders with Agg and leaves the
caller's backend and global figure list alone: building a report from a notebook
must not change how that notebook plots. A PNG in an `<img>` cannot run script,
whatever text ended up in its labels.
"""

import base64
import dataclasses
import functools
import io
import math
from collections.abc import Sequence
from contextlib import contextmanager

from personascope.report._html import Html, tag

COLORS = ("#3b6fb6", "#d1495b", "#2a9d8f", "#e9a03b", "#7b5ea7", "#5c6b73")
_DPI = 100  # CSS pixels per inch in `<img width>`; files are drawn at twice that for sharp screens

_STYLE = {
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.alpha": 0.3, "axes.edgecolor": "#888", "xtick.color": "#444", "ytick.color": "#444",
    "svg.fonttype": "path", "text.usetex": False,
}


def label(text: object) -> str:
    """Text for matplotlib: `$` would start mathtext, and unbalanced mathtext fails the draw."""
    return str(text).replace("$", r"\$")


def finite(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else math.nan


@contextmanager
def figure(width: float, height: float, **subplots):
    """A styled `(fig, axes)` pair outside pyplot."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context(_STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
        yield fig, fig.subplots(**subplots)


def png(fig, alt: str) -> Html:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=2 * _DPI, metadata={"Software": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    width = round(fig.get_figwidth() * _DPI)
    return tag("img", src=f"data:image/png;base64,{data}", alt=alt, width=width, class_="figure")


def _plain(value):
    """Arguments as JSON-able data for a cache key (tuple-keyed dicts become pair lists)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return sorted(([_plain(k), _plain(v)] for k, v in value.items()), key=repr)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def cached_figure(draw):
    """Keep a figure's HTML in the cache under a key of its inputs.

    A rerun of an unchanged study rebuilds its report with the same figures; drawing
    them needs matplotlib (over a second to import), reading them back does not.
    """

    @functools.wraps(draw)
    def wrapper(*args):
        import sqlite3
        from importlib import metadata

        from personascope.store import Cache, cache_key

        key = cache_key(op="figure", draw=draw.__qualname__, matplotlib=metadata.version("matplotlib"), args=_plain(args))
        try:
            cache = Cache()
            hit = cache.get(key)
        except (OSError, sqlite3.Error):  # an unwritable cache only costs the drawing
            cache, hit = None, None
        if hit is not None:
            return Html(hit.decode())
        out = draw(*args)
        if cache is not None:
            try:
                cache.put_many({key: out.encode()}, op="figure")
            except sqlite3.Error:
                pass
        return out

    return wrapper


def _ci_err(metric, y: float) -> tuple[float, float]:
    """Error-bar lengths below and above `y` (0 where the CI is missing)."""
    if metric is None or math.isnan(y):
        return 0.0, 0.0
    low, high = finite(metric.ci_low), finite(metric.ci_high)
    return (y - low if low <= y else 0.0), (high - y if high >= y else 0.0)


@cached_figure
def projection_plot(name: str, arms: Sequence[str], models: Sequence[str], estimates: dict, values: dict) -> Html:
    """Mean per arm with its CI (one marker per model), over the single responses in grey.

    `estimates[(model, arm)]` is a Metric, `values[(model, arm)]` the per-response numbers.
    """
    width = max(4.0, 1.2 * len(arms) + 2.2)
    with figure(width, 3.0) as (fig, ax):
        spread = 0.5 / max(len(models), 1)
        for j, model in enumerate(models):
            offset = (j - (len(models) - 1) / 2) * spread
            color = COLORS[j % len(COLORS)]
            for i, arm in enumerate(arms):
                xs = values.get((model, arm), [])
                if xs:
                    # Evenly spread dots (not random jitter): the same run always draws the same picture.
                    jitter = [offset + (k / max(len(xs) - 1, 1) - 0.5) * spread * 0.6 for k in range(len(xs))]
                    ax.scatter([i + d for d in jitter], [finite(x) for x in xs], s=9, color="#9aa0a6", alpha=0.55, zorder=1, linewidths=0)
            ests = [estimates.get((model, arm)) for arm in arms]
            ys = [finite(m.value) if m else math.nan for m in ests]
            errs = [_ci_err(m, y) for m, y in zip(ests, ys)]
            ax.errorbar(
                [i + offset for i in range(len(arms))], ys, yerr=[[e[0] for e in errs], [e[1] for e in errs]],
                fmt="o", color=color, capsize=4, markersize=6, elinewidth=1.5, zorder=3, label=label(model),
            )
        ax.axhline(0, color="#666", linewidth=0.8, linestyle="--", zorder=0)
        ax.set_xticks(range(len(arms)), [label(a) for a in arms])
        ax.set_xlim(-0.6, len(arms) - 0.4)
        ax.set_ylabel("projection (mean, 95% CI)")
        ax.set_title(label(name))
        ax.grid(axis="x", visible=False)
        if len(models) > 1:
            ax.legend(frameon=False, fontsize=8)
        return png(fig, f"{name}: mean per arm with 95% confidence intervals; grey dots are single responses")


@cached_figure
def layers_plot(layers: Sequence[dict], best: int | None) -> Html:
    """In-sample Cohen's d (top) and AUROC (bottom) per layer, the best layer marked."""
    xs = [int(r["layer"]) for r in layers]
    d = [finite(r.get("cohens_d")) for r in layers]
    auc = [finite(r.get("auroc")) for r in layers]
    with figure(6.4, 4.0, nrows=2, sharex=True, height_ratios=[3, 2]) as (fig, (top, bottom)):
        top.plot(xs, d, marker="o", markersize=3.5, color=COLORS[0])
        top.set_ylabel("Cohen's d (in-sample)")
        bottom.plot(xs, auc, marker="o", markersize=3.5, color=COLORS[2])
        bottom.axhline(0.5, color="#666", linewidth=0.8, linestyle="--")
        bottom.text(xs[0] if xs else 0, 0.5, " chance", va="bottom", fontsize=8, color="#666")
        bottom.set_ylabel("AUROC (in-sample)")
        bottom.set_xlabel("layer (output of decoder block i)")
        bottom.set_ylim(min(0.4, *(a for a in auc if a == a)) - 0.02 if any(a == a for a in auc) else 0.4, 1.03)
        if best is not None and best in xs:
            k = xs.index(best)
            for ax, ys in ((top, d), (bottom, auc)):
                ax.axvline(best, color=COLORS[1], linewidth=1.2, linestyle=":")
                ax.plot([best], [ys[k]], marker="o", markersize=9, markerfacecolor="none", markeredgecolor=COLORS[1], markeredgewidth=1.5)
            top.set_title(f"In-sample separation per layer · best layer {best} (d = {d[k]:.3g}, AUROC = {auc[k]:.3g})")
        return png(fig, "In-sample Cohen's d and AUROC per layer; the dotted line marks the best layer")
