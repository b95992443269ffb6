"""Figures of a run, ready for a paper: in the formats asked for, with readable axes.

Every figure is saved through :func:`save` in each of ``--plot_format``'s
formats (PNG, SVG, PDF); lines of different layers get colours that never
repeat within a figure (:func:`distinct_colours`); log axes label their ticks
with plain numbers (:func:`plain_log_ticks`), not ``1.5×10⁰``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

#: Formats ``--plot_format`` accepts.
PLOT_FORMATS = ("png", "svg", "pdf")
#: Resolution of PNG figures, dots per inch.
PNG_DPI = 150


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend (no display needed)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save(fig, folder: Path, stem: str, formats=("png",)) -> list[Path]:
    """Save ``fig`` as ``folder/stem.<format>`` for each format, close it; return the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = folder / f"{stem}.{fmt}"
        fig.savefig(path, dpi=PNG_DPI if fmt == "png" else None)
        paths.append(path)
    pyplot().close(fig)
    return paths


def distinct_colours(n: int) -> list:
    """``n`` colours, no two alike: tab10 up to 10, tab20 up to 20, else evenly along 'turbo'."""
    plt = pyplot()
    if n <= 10:
        return [plt.get_cmap("tab10")(i) for i in range(n)]
    if n <= 20:
        return [plt.get_cmap("tab20")(i) for i in range(n)]
    return [plt.get_cmap("turbo")(x) for x in np.linspace(0.05, 0.95, n)]


def plain_log_ticks(axis) -> None:
    """Label a log axis's major and minor ticks as plain numbers (1, 1.5, 2, 10, 1e+06)."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    label = FuncFormatter(lambda value, _: f"{value:g}")
    axis.set_major_formatter(label)
    axis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
    axis.set_minor_formatter(label)


def convergence(histories: list[tuple[int, object]], objective: str, unit: str):
    """Best ``objective`` (÷ its final value) against samples, one line per layer.

    ``histories``: (layer number, history DataFrame with ``samples`` and ``best_<objective>``).
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    styles = ("-", "--", ":", "-.")
    highest = 1.0
    for (index, h), colour, k in zip(histories, distinct_colours(len(histories)), range(len(histories)),
                                     strict=False):
        values = h[f"best_{objective}"].to_numpy(dtype=float)
        if np.isfinite(values).any():
            values = values / np.nanmin(values)
            highest = max(highest, float(np.nanmax(values)))
        ax.plot(h["samples"], values, marker=".", color=colour, linestyle=styles[k % len(styles)],
                label=f"layer {index}")
    ax.set_xlabel("samples scored")
    ax.set_ylabel(f"best {objective} / final best")
    ax.set_title(f"Convergence of {objective} ({unit}) per layer")
    if highest > 2:         # a log axis only where the ratios span enough to need one
        ax.set_yscale("log")
        plain_log_ticks(ax.yaxis)
    if histories:
        ax.legend(fontsize=6 if len(histories) > 12 else 7, ncol=1 + len(histories) // 16)
    fig.tight_layout()
    return fig
