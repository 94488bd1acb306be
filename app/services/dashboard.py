"""Review figures over recent days: items held, inspection hit rate, outcomes by category and by corridor."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.tables import Assessment, OutcomeRecord, ReviewCase
from model.shipment import FINDING_RESULTS, OutcomeResult
from model.taxonomy import DrugCategory

# Inspections with an answer: the hit rate's denominator (not presented and pending lab results are left out).
CONCLUDED = (
    OutcomeResult.SEIZED.value,
    OutcomeResult.NOTHING_FOUND.value,
    OutcomeResult.CONTROLLED_DELIVERY.value,
)


@dataclass(frozen=True)
class DailyFigures:
    day: date
    held: int
    concluded: int
    found: int

    @property
    def hit_rate(self) -> float | None:
        return self.found / self.concluded if self.concluded else None


@dataclass(frozen=True)
class CorridorFigures:
    origin: str
    destination: str
    outcomes: int
    found: int


@dataclass(frozen=True)
class LaneFigures:
    """Concluded inspections of the items one selection lane held, and how many found drugs."""

    lane: str
    concluded: int
    found: int

    @property
    def hit_rate(self) -> float | None:
        return self.found / self.concluded if self.concluded else None


SELECTION_LANES = ("model", "rule", "watchlist", "random")


@dataclass(frozen=True)
class Dashboard:
    """Figures for the `days` days up to today (UTC); outcomes count once, as their current record.

    `by_category` names the substance of findings (seizures, controlled deliveries) and the result otherwise.
    """

    days: int
    daily: list[DailyFigures]
    by_category: list[tuple[str, int]]
    by_corridor: list[CorridorFigures]
    by_lane: list[LaneFigures]
    queue: dict[str, int]

    @property
    def held(self) -> int:
        return sum(d.held for d in self.daily)

    @property
    def hit_rate(self) -> float | None:
        concluded = sum(d.concluded for d in self.daily)
        return sum(d.found for d in self.daily) / concluded if concluded else None


def _utc_day(session: Session, column: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def drug_finding() -> ColumnElement[bool]:
    return and_(
        OutcomeRecord.result.in_([r.value for r in FINDING_RESULTS]),
        OutcomeRecord.substance_category != DrugCategory.NON_DRUG.value,
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _current_since(since: date) -> list[ColumnElement[bool]]:
    return [OutcomeRecord.superseded.is_(False), OutcomeRecord.inspected_at >= _midnight(since)]


def _daily(session: Session, days: Sequence[date]) -> list[DailyFigures]:
    start = _midnight(days[0])
    held_day = _utc_day(session, ReviewCase.created_at)
    held = {
        _day(day): count
        for day, count in session.execute(
            select(held_day, func.count()).where(ReviewCase.created_at >= start).group_by(held_day)
        ).all()
    }
    outcome_day = _utc_day(session, OutcomeRecord.inspected_at)
    outcomes = {
        _day(day): (concluded, found)
        for day, concluded, found in session.execute(
            select(outcome_day, func.count(), func.count().filter(drug_finding()))
            .where(*_current_since(days[0]), OutcomeRecord.result.in_(CONCLUDED))
            .group_by(outcome_day)
        ).all()
    }
    return [DailyFigures(day, held.get(day, 0), *outcomes.get(day, (0, 0))) for day in days]


def _by_category(session: Session, since: date) -> list[tuple[str, int]]:
    findings = [r.value for r in FINDING_RESULTS]
    label = case(
        (OutcomeRecord.result.in_(findings), OutcomeRecord.substance_category), else_=OutcomeRecord.result
    )
    rows = session.execute(
        select(label, func.count())
        .where(*_current_since(since))
        .group_by(label)
        .order_by(func.count().desc(), label)
    ).all()
    return [(str(name), int(count)) for name, count in rows]


def _by_corridor(session: Session, since: date, top: int) -> list[CorridorFigures]:
    count = func.count()
    rows = session.execute(
        select(Assessment.origin, Assessment.destination, count, func.count().filter(drug_finding()))
        .join(Assessment, Assessment.id == OutcomeRecord.assessment_id)
        .where(*_current_since(since))
        .group_by(Assessment.origin, Assessment.destination)
        .order_by(count.desc(), Assessment.origin, Assessment.destination)
        .limit(top)
    ).all()
    return [CorridorFigures(o, d, int(n), int(f)) for o, d, n, f in rows]


def _by_lane(session: Session, since: date) -> list[LaneFigures]:
    rows = {
        lane: (int(concluded), int(found))
        for lane, concluded, found in session.execute(
            select(Assessment.selection_reason, func.count(), func.count().filter(drug_finding()))
            .join(Assessment, Assessment.id == OutcomeRecord.assessment_id)
            .where(*_current_since(since), OutcomeRecord.result.in_(CONCLUDED))
            .group_by(Assessment.selection_reason)
        ).all()
    }
    return [LaneFigures(lane, *rows.get(lane, (0, 0))) for lane in SELECTION_LANES]


def dashboard(session: Session, *, days: int, top_corridors: int = 10) -> Dashboard:
    """The figures of the last `days` days (today included); cases in the queue now, by status."""
    today = utcnow().date()
    window = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    queue = dict(session.execute(select(ReviewCase.status, func.count()).group_by(ReviewCase.status)).all())
    return Dashboard(
        days=days,
        daily=_daily(session, window),
        by_category=_by_category(session, window[0]),
        by_corridor=_by_corridor(session, window[0], top_corridors),
        by_lane=_by_lane(session, window[0]),
        queue={status: int(queue.get(status, 0)) for status in ("open", "claimed", "pending_lab", "closed")},
    )
