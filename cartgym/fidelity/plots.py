"""PNG figures of a fidelity check (matplotlib, an optional dependency).

Figures are built with ``matplotlib.figure.Figure`` and rendered by the Agg canvas, never
through pyplot, so the caller's backend and open figures are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

INSTALL_HINT = 'pip install "cartgym[bench]"  (or: pip install matplotlib)'


@dataclass(frozen=True)
class Samples:
    """The arrays behind the report's figures."""

    real_sizes: np.ndarray
    sim_sizes: np.ndarray
    real_spend: np.ndarray
    sim_spend: np.ndarray
    real_item_counts: np.ndarray
    sim_item_counts: np.ndarray
    real_lifts: np.ndarray
    sim_lifts: np.ndarray
    category_names: np.ndarray
    real_categories: np.ndarray | None
    sim_categories: np.ndarray | None
    next_basket: dict[str, dict[str, float]] | None


def write_figures(samples: Samples, out_dir: Path) -> dict[str, str]:
    """Write the figures into ``out_dir``; returns section key -> file name."""
    figure = _figure_class()
    written: dict[str, str] = {}

    def save(key: str, fig: Any) -> None:
        name = f"{key}.png"
        fig.tight_layout()
        fig.savefig(out_dir / name, dpi=110)
        written[key] = name

    fig = figure(figsize=(6, 3.6))
    ax = fig.subplots()
    top = int(np.quantile(np.concatenate([samples.real_sizes, samples.sim_sizes]), 0.99)) + 2
    bins = np.arange(0.5, top + 1.5, max(1, top // 60))
    ax.hist(samples.real_sizes, bins=bins, density=True, alpha=0.55, label="held-out")
    ax.hist(samples.sim_sizes, bins=bins, density=True, histtype="step", lw=1.6, label="simulated")
    ax.set(xlabel="catalogue items per basket (99% shown)", ylabel="share of baskets")
    ax.legend()
    save("basket_size", fig)

    fig = figure(figsize=(6, 3.6))
    ax = fig.subplots()
    for values, label in ((samples.real_spend, "held-out"), (samples.sim_spend, "replayed")):
        x = np.sort(values)
        ax.plot(np.maximum(x, 1e-2), np.arange(1, len(x) + 1) / len(x), label=label)
    ax.set(xscale="log", xlabel="basket value (log scale)", ylabel="CDF")
    ax.legend()
    save("spend", fig)

    fig = figure(figsize=(4.6, 4.2))
    ax = fig.subplots()
    ax.scatter(samples.real_item_counts + 1, samples.sim_item_counts + 1, s=5, alpha=0.5)
    _diagonal(ax, samples.real_item_counts + 1, samples.sim_item_counts + 1)
    ax.set(xscale="log", yscale="log", xlabel="held-out baskets + 1", ylabel="replayed baskets + 1")
    _plain_log_ticks(ax)
    ax.set_title("baskets holding each item")
    save("popularity", fig)

    fig = figure(figsize=(4.6, 4.2))
    ax = fig.subplots()
    ax.scatter(samples.real_lifts, np.maximum(samples.sim_lifts, 1e-2), s=9, alpha=0.7)
    _diagonal(ax, samples.real_lifts, np.maximum(samples.sim_lifts, 1e-2))
    ax.set(xscale="log", yscale="log", xlabel="held-out lift", ylabel="replayed lift")
    _plain_log_ticks(ax)
    ax.set_title("lift of the top co-purchased pairs")
    save("pair_lift", fig)

    if samples.real_categories is not None and samples.sim_categories is not None:
        order = np.argsort(-samples.real_categories, kind="stable")[:20][::-1]
        fig = figure(figsize=(6.4, 5.2))
        ax = fig.subplots()
        y = np.arange(len(order))
        ax.barh(y - 0.2, samples.real_categories[order], height=0.4, label="held-out")
        ax.barh(y + 0.2, samples.sim_categories[order], height=0.4, label="replayed")
        ax.set_yticks(y, [str(n)[:28] for n in samples.category_names[order]], fontsize=7)
        ax.set(xlabel="share of basket items (top 20 categories)")
        ax.legend()
        save("category_mix", fig)

    if samples.next_basket:
        methods = list(samples.next_basket)
        metrics = [m for m in next(iter(samples.next_basket.values())) if "@" in m]
        fig = figure(figsize=(7, 3.6))
        ax = fig.subplots()
        width = 0.8 / len(methods)
        x = np.arange(len(metrics))
        for i, method in enumerate(methods):
            heights = [samples.next_basket[method][m] for m in metrics]
            ax.bar(x + (i - (len(methods) - 1) / 2) * width, heights, width, label=method)
        ax.set_xticks(x, metrics, fontsize=8)
        ax.legend(fontsize=8)
        ax.set_title("next-basket evaluation")
        save("next_basket", fig)
    return written


def _plain_log_ticks(ax: Any) -> None:
    """Label log axes at their major ticks only, as plain numbers."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_minor_formatter(NullFormatter())
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def _diagonal(ax: Any, x: np.ndarray, y: np.ndarray) -> None:
    both = np.concatenate([x[x > 0], y[y > 0]])
    if len(both):
        lo, hi = both.min(), both.max()
        ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls="--")


def _figure_class() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(f"fidelity plots need matplotlib: {INSTALL_HINT}") from error
    return Figure
