"""Charts drawn on the server as inline SVG: columns per day, stacked horizontal bars per category."""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
COLUMN_HEIGHT = 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 12, 14, 36
ROW_HEIGHT = 26
LABEL_WIDTH = 150
MAX_X_LABELS = 10


@dataclass(frozen=True)
class Column:
    label: str
    value: float | None  # None: nothing to show that day
    note: str  # the full sentence, shown as a tooltip


@dataclass(frozen=True)
class Segment:
    value: float
    css_class: str
    note: str


@dataclass(frozen=True)
class Bar:
    label: str
    segments: Sequence[Segment]


def _count(value: float) -> str:
    return f"{value:,.0f}"


def percent(value: float) -> str:
    return f"{value:.0%}"


def _svg(chart_id: str, height: int, title: str, description: str, body: list[str]) -> Markup:
    header = (
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>'
    )
    return Markup(header + "".join(body) + "</svg>")  # noqa: S704 - every value above is escaped


def _nice_top(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return float(next(step * power for step in (1, 2, 5, 10) if step * power >= value))


def column_chart(
    columns: Sequence[Column],
    *,
    chart_id: str,
    title: str,
    description: str,
    top: float | None = None,
    tick_format: Callable[[float], str] = _count,
) -> Markup:
    """Vertical bars, one per column (a day), with a three-tick value axis."""
    plot_width = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_height = COLUMN_HEIGHT - PAD_TOP - PAD_BOTTOM
    axis_top = top or _nice_top(max((c.value or 0 for c in columns), default=0))
    body = []
    for fraction in (0.0, 0.5, 1.0):
        y = PAD_TOP + plot_height * (1 - fraction)
        body.append(
            f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        label = escape(tick_format(axis_top * fraction))
        body.append(f'<text class="tick" x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    slot = plot_width / max(len(columns), 1)
    every = math.ceil(len(columns) / MAX_X_LABELS) or 1
    for index, column in enumerate(columns):
        x = PAD_LEFT + index * slot
        if column.value is not None:
            height = plot_height * min(column.value / axis_top, 1.0)
            body.append(
                f'<rect class="bar" x="{x + slot * 0.15:.1f}" y="{PAD_TOP + plot_height - height:.1f}" '
                f'width="{slot * 0.7:.1f}" height="{height:.1f}"><title>{escape(column.note)}</title></rect>'
            )
        if (
            len(columns) - 1 - index
        ) % every == 0:  # counted back from the newest day, which is always labelled
            body.append(
                f'<text class="tick" x="{x + slot / 2:.1f}" y="{COLUMN_HEIGHT - PAD_BOTTOM + 16}" '
                f'text-anchor="middle">{escape(column.label)}</text>'
            )
    return _svg(chart_id, COLUMN_HEIGHT, title, description, body)


def bar_chart(bars: Sequence[Bar], *, chart_id: str, title: str, description: str) -> Markup:
    """Horizontal bars, one row per label, each split into segments (e.g. found and nothing found)."""
    height = PAD_TOP + ROW_HEIGHT * max(len(bars), 1) + 8
    plot_width = WIDTH - LABEL_WIDTH - PAD_RIGHT - 48
    largest = max((sum(s.value for s in bar.segments) for bar in bars), default=0) or 1
    body = []
    if not bars:
        body.append(
            f'<text class="tick" x="{WIDTH / 2}" y="{PAD_TOP + 12}" text-anchor="middle">No data</text>'
        )
    for index, bar in enumerate(bars):
        y = PAD_TOP + index * ROW_HEIGHT
        body.append(
            f'<text class="tick" x="{LABEL_WIDTH - 8}" y="{y + ROW_HEIGHT / 2 + 4:.1f}" '
            f'text-anchor="end">{escape(bar.label)}</text>'
        )
        x = float(LABEL_WIDTH)
        for segment in bar.segments:
            width = plot_width * segment.value / largest
            body.append(
                f'<rect class="{escape(segment.css_class)}" x="{x:.1f}" y="{y + 4}" width="{width:.1f}" '
                f'height="{ROW_HEIGHT - 8}"><title>{escape(segment.note)}</title></rect>'
            )
            x += width
        total = _count(sum(s.value for s in bar.segments))
        body.append(f'<text class="tick" x="{x + 6:.1f}" y="{y + ROW_HEIGHT / 2 + 4:.1f}">{total}</text>')
    return _svg(chart_id, height, title, description, body)
