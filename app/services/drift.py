"""Drift monitoring: count each batch's features and scores in the training reference's bins, and the daily PSI."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, cast

import numpy as np
from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.tables import DriftCount
from model.drift import CALENDAR_FEATURES, SCORE, DriftReference

_COUNTS = cast(Table, DriftCount.__table__)
DriftLevel = Literal["ok", "watch", "warn"]
LEVELS: tuple[DriftLevel, ...] = ("ok", "watch", "warn")


@dataclass(frozen=True)
class DriftThresholds:
    """PSI from which a column is watched or warned about, and the items a day needs to be judged."""

    watch: float
    warn: float
    min_items: int

    def level(self, psi: float) -> DriftLevel:
        return "warn" if psi >= self.warn else "watch" if psi >= self.watch else "ok"


def count_batch(
    session: Session,
    *,
    reference: DriftReference | None,
    model_version: str,
    features: Sequence[Sequence[float]],
    raw_scores: Sequence[float],
) -> None:
    """Add a batch to today's bin counts in one upsert statement (no read, no lock beyond the rows written).

    Rows go in a fixed order (feature, then bin), so concurrent batches take the row locks in the same order.
    """
    if reference is None or not raw_scores:
        return
    counted = reference.bin_counts(
        np.asarray(features, dtype=np.float64), np.asarray(raw_scores, dtype=np.float64)
    )
    day = utcnow().date()
    rows = [
        {"model_version": model_version, "day": day, "feature": feature, "bin": bin_, "items": items}
        for feature, bin_, items in sorted(counted)
    ]
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_COUNTS)
    statement = statement.on_conflict_do_update(
        index_elements=["model_version", "day", "feature", "bin"],
        set_={"items": _COUNTS.c["items"] + statement.excluded["items"]},
    )
    # One statement compiled once and executed for every row (a VALUES list of a batch's length would be
    # compiled anew for every batch: half the CPU of a one-item batch).
    session.execute(statement, rows)


@dataclass(frozen=True)
class ColumnDrift:
    """One feature's (or the score's) PSI on a day, its level, and the bin that moved most; calendar
    features are not judged (their level stays ok)."""

    feature: str
    psi: float
    level: DriftLevel
    judged: bool
    moved_bin: str
    expected_share: float
    observed_share: float


@dataclass(frozen=True)
class DayDrift:
    day: date
    items: int
    columns: list[ColumnDrift]  # largest PSI first

    @property
    def level(self) -> DriftLevel:
        return max((c.level for c in self.columns), key=LEVELS.index, default="ok")

    def at_least(self, level: DriftLevel) -> list[ColumnDrift]:
        return [c for c in self.columns if LEVELS.index(c.level) >= LEVELS.index(level)]


@dataclass(frozen=True)
class DriftReport:
    """PSI per day of the current model's traffic against its training reference (none for older artifacts)."""

    model_version: str | None
    has_reference: bool
    thresholds: DriftThresholds
    days: list[DayDrift]  # days with at least min_items items, newest first

    @property
    def current(self) -> DayDrift | None:
        """The newest day with enough items to be judged (today once it has them, else the day before)."""
        return self.days[0] if self.days else None

    @property
    def status(self) -> str:
        if not self.has_reference:
            return "no training reference"
        if self.current is None:
            return "too few items scored to judge"
        return self.current.level


def _column_drift(
    reference: DriftReference, feature: str, counts: dict[int, int], thresholds: DriftThresholds
) -> ColumnDrift:
    column = reference.column(feature)
    observed = np.zeros(column.bins, dtype=np.int64)
    for bin_, items in counts.items():
        if 0 <= bin_ < column.bins:
            observed[bin_] = items
    psi = column.psi(observed)
    shares = observed / max(1, int(observed.sum()))
    moved = int(np.argmax(np.abs(shares - np.asarray(column.proportions))))
    judged = feature not in CALENDAR_FEATURES
    return ColumnDrift(
        feature,
        psi,
        thresholds.level(psi) if judged else "ok",
        judged,
        column.describe_bin(moved),
        column.proportions[moved],
        float(shares[moved]),
    )


def drift_report(
    session: Session,
    *,
    reference: DriftReference | None,
    model_version: str | None,
    thresholds: DriftThresholds,
    days: int = 2,
) -> DriftReport:
    """The PSI of every column on each of the last `days` days (UTC) with enough items, newest first."""
    if reference is None or model_version is None:
        return DriftReport(model_version, False, thresholds, [])
    since = utcnow().date() - timedelta(days=days - 1)
    rows = session.execute(
        select(DriftCount.day, DriftCount.feature, DriftCount.bin, func.sum(DriftCount.items))
        .where(DriftCount.model_version == model_version, DriftCount.day >= since)
        .group_by(DriftCount.day, DriftCount.feature, DriftCount.bin)
    ).all()
    by_day: dict[Any, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    for day, feature, bin_, items in rows:
        by_day[day][feature][int(bin_)] = int(items)
    names = {c.name for c in reference.columns}
    judged_days = []
    for day in sorted(by_day, reverse=True):
        items = sum(by_day[day].get(SCORE, {}).values())
        if items < thresholds.min_items:
            continue
        columns = [
            _column_drift(reference, feature, counts, thresholds)
            for feature, counts in by_day[day].items()
            if feature in names
        ]
        judged_days.append(DayDrift(day, items, sorted(columns, key=lambda c: -c.psi)))
    return DriftReport(model_version, True, thresholds, judged_days)
