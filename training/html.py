"""Self-contained HTML reports: escaped tables, and matplotlib figures inlined as PNG (no network requests)."""

import base64
import html
import io
from collections.abc import Iterable, Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1b1f24}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccd;padding:.3rem .6rem;text-align:right}
th{background:#eef}td:first-child,th:first-child{text-align:left}.pass{color:#0a6b2d;font-weight:600}
.fail{color:#a4161a;font-weight:600}img{max-width:100%}
"""


def new_figure(width: float = 7.0, height: float = 3.6) -> tuple[Figure, Axes]:
    """A figure drawn without pyplot, so no global backend or figure registry is touched."""
    figure = Figure(figsize=(width, height), dpi=100)
    return figure, figure.subplots()


def figure_html(figure: Figure, alt: str) -> str:
    """The figure as an inline PNG <img>."""
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    encoded = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def table_html(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell_html(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def cell_html(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, bool):
        return '<span class="pass">PASS</span>' if value else '<span class="fail">FAIL</span>'
    return html.escape(str(value))


def page_html(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
