"""The report's charts, drawn with matplotlib's Agg canvas and returned as base64 PNG for inline embedding."""

import base64
import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import NDArray

from training.market.figures import PERSONAL_USE_EUR, WHOLESALE_EUR

MEASURED_COLOUR = "#3b6ea8"
TARGET_COLOUR = "#d1495b"


def _png(figure: Figure) -> str:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def share_bars(title: str, shares: dict[str, float], targets: dict[str, tuple[float, float]]) -> str:
    """Measured shares (percent) as bars, with each target's accepted range as a red interval."""
    figure = Figure(figsize=(7.5, 3.2))
    axes = figure.add_subplot()
    names = list(shares)
    positions = np.arange(len(names))
    axes.bar(positions, [100 * shares[n] for n in names], color=MEASURED_COLOUR, label="generated")
    for position, name in enumerate(names):
        if name in targets:
            low, high = targets[name]
            axes.plot([position, position], [low, high], color=TARGET_COLOUR, linewidth=6, alpha=0.7)
    axes.plot([], [], color=TARGET_COLOUR, linewidth=6, alpha=0.7, label="target range")
    axes.set_xticks(positions, names, rotation=30, ha="right")
    axes.set_ylabel("% of revenue")
    axes.set_title(title)
    axes.legend(frameon=False)
    return _png(figure)


def order_size_histogram(values_eur: NDArray[np.float64]) -> str:
    """Drug orders by value on a log scale, with the EUR 100 and EUR 1,000 marks of the targets."""
    figure = Figure(figsize=(7.5, 3.2))
    axes = figure.add_subplot()
    top = max(float(values_eur.max()), 10.0) if values_eur.size else 10.0
    bins = np.logspace(0.0, np.log10(top) + 0.05, 50).tolist()
    axes.hist(values_eur, bins=bins, color=MEASURED_COLOUR)
    axes.set_xscale("log")
    for mark in (PERSONAL_USE_EUR, WHOLESALE_EUR):
        axes.axvline(mark, color=TARGET_COLOUR, linestyle="--")
    axes.set_xlabel("order value (EUR, log scale)")
    axes.set_ylabel("orders")
    axes.set_title("Order sizes (drug orders)")
    return _png(figure)
