"""The dashboard page: held items and hit rate per day, outcomes by category and corridor, as inline SVG."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from markupsafe import Markup

from app.api.deps import ReadSessionDep
from app.services.dashboard import Dashboard, dashboard
from app.services.monitoring import Monitor
from app.web.auth import WebUserDep
from app.web.charts import Bar, Column, Segment, bar_chart, column_chart, percent
from app.web.templating import mark_page, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])
PERIODS = (7, 14, 30, 90)


def _words(value: str) -> str:
    return value.replace("_", " ")


def _period(figures: Dashboard) -> str:
    return f"the last {figures.days} days"


def _held(figures: Dashboard) -> Markup:
    columns = [
        Column(d.day.strftime("%d %b"), d.held, f"{d.day.isoformat()}: {d.held} items held")
        for d in figures.daily
    ]
    return column_chart(
        columns,
        chart_id="chart-held",
        title="Items held per day",
        description=f"Items held for customs each day over {_period(figures)}; {figures.held} in all.",
    )


def _hit_rate(figures: Dashboard) -> Markup:
    columns = [
        Column(
            d.day.strftime("%d %b"),
            d.hit_rate,
            f"{d.day.isoformat()}: {d.found} of {d.concluded} concluded inspections found drugs"
            if d.concluded
            else f"{d.day.isoformat()}: no concluded inspections",
        )
        for d in figures.daily
    ]
    return column_chart(
        columns,
        chart_id="chart-hit-rate",
        title="Hit rate per day",
        description=f"Share of concluded inspections that found drugs, by day of inspection, over {_period(figures)}.",
        top=1.0,
        tick_format=percent,
    )


def _categories(figures: Dashboard) -> Markup:
    bars = [
        Bar(_words(name), [Segment(count, "bar", f"{_words(name)}: {count} outcomes")])
        for name, count in figures.by_category
    ]
    return bar_chart(
        bars,
        chart_id="chart-categories",
        title="Outcomes by category",
        description=f"Current outcomes over {_period(figures)}: the substance of findings, else the result.",
    )


def _corridors(figures: Dashboard) -> Markup:
    bars = []
    for c in figures.by_corridor:
        name = f"{c.origin} → {c.destination}"
        other = c.outcomes - c.found
        found = Segment(c.found, "bar-found", f"{name}: {c.found} found drugs")
        bars.append(Bar(name, [found, Segment(other, "bar-other", f"{name}: {other} other outcomes")]))
    return bar_chart(
        bars,
        chart_id="chart-corridors",
        title="Outcomes by corridor",
        description=f"Current outcomes over {_period(figures)} by origin and destination; found drugs first.",
    )


def charts(figures: Dashboard) -> dict[str, Markup]:
    """The four charts of the page; each has a title and description for screen readers."""
    return {
        "held": _held(figures),
        "hit_rate": _hit_rate(figures),
        "categories": _categories(figures),
        "corridors": _corridors(figures),
    }


@router.get("/dashboard")
def dashboard_page(
    request: Request,
    session: ReadSessionDep,
    _user: WebUserDep,
    days: Annotated[int, Query(ge=1, le=366)] = 14,
) -> Response:
    """Figures for officers, supervisors and analysts; aggregate counts only, no personal data."""
    figures = dashboard(session, days=days)
    monitor: Monitor = request.app.state.monitor
    return render(
        request,
        "dashboard.html",
        {
            "active": "dashboard",
            "figures": figures,
            "monitoring": monitor.snapshot(),
            "charts": charts(figures),
            "periods": PERIODS,
            "days": days,
        },
    )
