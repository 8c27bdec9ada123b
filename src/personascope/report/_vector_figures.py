"""Figures of vector analyses, as PNG files beside their data (`sweep.png`, `pca.png`).

The vectors layer computes sweeps and persona spaces and asks for their figures
through the registry's hooks (`sweep_figure`, `persona_space_figure`), so the
drawing lives here with the other figures and vectors never imports the report.
"""

import io
import math
from typing import TYPE_CHECKING

from personascope.report._figures import COLORS, figure, finite, label

if TYPE_CHECKING:
    from personascope.vectors import PersonaSpace, SweepResult


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _ci_err(row: dict, metric: str, y: float) -> tuple[float, float]:
    low, high = row[f"{metric}_low"], row[f"{metric}_high"]
    if not (_finite(y) and _finite(low) and _finite(high)):
        return 0.0, 0.0
    return max(y - low, 0.0), max(high - y, 0.0)


def _png_bytes(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, metadata={"Software": None})
    return buf.getvalue()


def sweep_png(result: "SweepResult") -> bytes:
    """The selection metric (the trait score by default) and coherence against coef,
    one line per layer (PNG bytes)."""
    floor, by = result.config.coherence_floor, result.config.select_by
    with figure(8.0, 3.2, ncols=2, sharex=True) as (fig, axes):
        for k, layer in enumerate(result.config.layers):
            rows = sorted((r for r in result.rows if r["layer"] == layer), key=lambda r: r["coef"])
            xs = [r["coef"] for r in rows]
            for ax, metric in zip(axes, (by, "coherence")):
                ys = [finite(r[metric]) for r in rows]
                err = [_ci_err(r, metric, y) for r, y in zip(rows, ys)]
                ax.errorbar(xs, ys, yerr=[[e[0] for e in err], [e[1] for e in err]], marker="o", markersize=3.5,
                            capsize=3, color=COLORS[k % len(COLORS)], label=f"layer {layer}")
        axes[0].set_title(label(f"{by}: {result.trait or 'n/a'}" if by == "trait" else f"{by} ({result.trait or 'n/a'})"))
        axes[0].set_ylabel(label(f"{by} (mean, 95% CI)"))
        axes[1].set_title("coherence")
        axes[1].set_ylabel("coherence (0-100)")
        axes[1].axhline(floor, color="#666", linewidth=0.8, linestyle="--")
        axes[1].text(max(result.config.coefs), floor, f"floor {floor:g} ", va="bottom", ha="right", fontsize=8, color="#666")
        for ax in axes if by != "projection" else axes[1:]:
            ax.set_ylim(-3, 103)  # judges and scorers give 0-100: a fixed scale makes sweeps comparable
        for ax in axes:
            ax.set_xlabel("steering coefficient")
        if result.best:
            b = result.best
            axes[0].plot([b["coef"]], [b[by]], marker="o", markersize=10, markerfacecolor="none",
                         markeredgecolor="#222", markeredgewidth=1.5)
            fig.suptitle(label(f"best by {result.config.select_by}: layer {b['layer']}, coef {b['coef']:g}"), fontsize=10)
        axes[0].legend(frameon=False, fontsize=8)
        return _png_bytes(fig)


def persona_space_png(space: "PersonaSpace", title: str = "persona space") -> bytes:
    """Each vector on PC1/PC2, the default assistant as a star (PNG bytes)."""
    ratio = space.explained_variance_ratio + [0.0, 0.0]
    with figure(6.0, 4.6) as (fig, ax):
        for name in space.names:
            x, y = (space.coords[name] + [0.0, 0.0])[:2]
            ax.scatter([x], [y], s=28, color=COLORS[0], zorder=3)
            ax.annotate(label(name), (x, y), xytext=(4, 3), textcoords="offset points", fontsize=8)
        if space.origin:
            x, y = (space.origin + [0.0, 0.0])[:2]
            ax.scatter([x], [y], s=140, marker="*", color=COLORS[1], zorder=4)
            ax.annotate("default assistant", (x, y), xytext=(5, -10), textcoords="offset points", fontsize=8, color=COLORS[1])
        ax.set_xlabel(f"PC1 ({100 * ratio[0]:.0f}% of variance)")
        ax.set_ylabel(f"PC2 ({100 * ratio[1]:.0f}% of variance)")
        ax.set_title(label(f"{title} · layer {space.layer}"))
        return _png_bytes(fig)
