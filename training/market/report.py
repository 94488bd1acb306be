"""The calibration report: figures against targets, PASS/FAIL per line, and charts, as one HTML file."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

from model.taxonomy import DrugCategory
from training.market.figures import (
    TARGETS,
    CalibrationLine,
    calibration_lines,
    orders_by_category,
    revenue_by_category,
    revenue_by_country,
)
from training.market.generator import GeneratedMarket
from training.market.plots import order_size_histogram, share_bars

# Published figures that are not calibration targets (market-facts.md, press coverage of RR-1607): shown for
# comparison only.
PUBLISHED_ORDER_SHARES: dict[str, float] = {
    DrugCategory.CANNABIS.value: 33.0,
    DrugCategory.PRESCRIPTION.value: 19.0,
    DrugCategory.STIMULANTS.value: 18.0,
    DrugCategory.ECSTASY.value: 12.0,
    DrugCategory.PSYCHEDELICS.value: 11.0,
}
COUNTRY_CHART_SIZE = 10

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Market calibration report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } td, th { padding: .3em .8em; border-bottom: 1px solid #ddd; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.PASS { color: #1b7f3b; font-weight: bold; } .FAIL { color: #b3261e; font-weight: bold; }
</style></head><body>
<h1>Market calibration report</h1>
<p>{{ summary }}</p>
<p class="{{ verdict }}">{{ passed }} of {{ lines|length }} targets met: {{ verdict }}</p>
<table><tr><th>figure</th><th>measured</th><th>target (market-facts.md)</th><th>accepted</th><th></th></tr>
{% for line in lines %}<tr><td>{{ line.target.label }}</td><td class="n">{{ "%.2f"|format(line.value) }} {{ line.target.unit }}</td>
<td>{{ line.target.stated }}</td><td class="n">{{ line.target.low }} to {{ line.target.high }}</td>
<td class="{{ 'PASS' if line.passed else 'FAIL' }}">{{ 'PASS' if line.passed else 'FAIL' }}</td></tr>
{% endfor %}</table>
<h2>Charts</h2>
{% for chart in charts %}<p><img alt="{{ chart[0] }}" src="data:image/png;base64,{{ chart[1] }}"></p>
{% endfor %}
<h2>For comparison, not targets</h2>
<table><tr><th>share of drug orders</th><th>generated</th><th>published</th></tr>
{% for name, published in published_orders.items() %}<tr><td>{{ name }}</td>
<td class="n">{{ "%.1f"|format(100 * order_shares[name]) }} %</td><td class="n">{{ published }} %</td></tr>
{% endfor %}</table>
</body></html>
"""


@cache
def _template() -> jinja2.Template:
    return jinja2.Environment(autoescape=True).from_string(_PAGE)


@dataclass(frozen=True)
class MarketReport:
    """The calibration lines of one generated market and its HTML page."""

    lines: list[CalibrationLine]
    html: str

    @property
    def passed(self) -> bool:
        return all(line.passed for line in self.lines)


def _target_ranges(prefix: str) -> dict[str, tuple[float, float]]:
    return {t.key.removeprefix(prefix): (t.low, t.high) for t in TARGETS if t.key.startswith(prefix)}


def build_report(market: GeneratedMarket) -> MarketReport:
    """Measure the market, compare with every target and render the page."""
    orders = market.transactions
    lines = calibration_lines(orders)
    countries = dict(list(revenue_by_country(orders).items())[:COUNTRY_CHART_SIZE])
    drugs = orders.where(orders.is_drug)
    charts = [
        (
            "Revenue by category",
            share_bars(
                "Revenue by category (all revenue)", revenue_by_category(orders), _target_ranges("category_")
            ),
        ),
        (
            "Revenue by vendor country",
            share_bars("Drug revenue by vendor country", countries, _target_ranges("revenue_")),
        ),
        ("Order sizes", order_size_histogram(drugs.price_eur)),
    ]
    s = market.settings
    summary = (
        f"Generated market, seed {s.seed}: {len(market.vendors):,} vendors, {len(market.listings):,} listings, "
        f"{len(orders):,} orders over {s.months} months from {s.start} (growth {s.monthly_growth:g} a month)."
    )
    passed = sum(line.passed for line in lines)
    html = _template().render(
        summary=summary,
        lines=lines,
        passed=passed,
        verdict="PASS" if passed == len(lines) else "FAIL",
        charts=charts,
        published_orders=PUBLISHED_ORDER_SHARES,
        order_shares=orders_by_category(orders),
    )
    return MarketReport(lines, html)


def write_report(market: GeneratedMarket, path: Path) -> MarketReport:
    """Build the report and write its HTML to `path`."""
    report = build_report(market)
    path.write_text(report.html, encoding="utf-8")
    return report
