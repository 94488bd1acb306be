"""Drift monitoring: count each batch's features and scores in the training reference's bins (in its
transaction, or buffered per process and flushed in the background), and the daily PSI."""

import logging
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from app.db.base import utcnow
from app.db.engine import after_commit
from app.db.tables import DriftCount
from model.drift import CALENDAR_FEATURES, SCORE, DriftReference

_COUNTS = cast(Table, DriftCount.__table__)
_BUFFER = (
    "drift_count_buffer"  # Session.info: the process's buffer, when counts are flushed in the background
)
CountKey = tuple[str, date, str, int]  # (model version, day, feature, bin): a row of drift_counts
logger = logging.getLogger(__name__)
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
    features: Sequence[Sequence[float]] | npt.NDArray[np.float64],
    raw_scores: Sequence[float],
) -> None:
    """Add a batch (its feature matrix, or rows) to today's bin counts.

    When the session's factory carries a DriftCountBuffer (PARCEL_RADAR_DRIFT_FLUSH_SECONDS > 0), the batch
    joins the process's pending counts once its transaction commits (a rolled-back batch is never counted) and
    the buffer adds them to the database later. Otherwise the counts are upserted in the batch's transaction.
    """
    if reference is None or not raw_scores:
        return
    batch = _Batch(
        reference,
        model_version,
        utcnow().date(),
        np.asarray(features, dtype=np.float64),
        np.asarray(raw_scores, dtype=np.float64),
    )
    buffer: DriftCountBuffer | None = session.info.get(_BUFFER)
    if buffer is not None:
        after_commit(session, lambda: buffer.add(batch))
        return
    _upsert(session, _binned([batch]))


@dataclass(frozen=True)
class _Batch:
    reference: DriftReference
    model_version: str
    day: date
    features: npt.NDArray[np.float64]
    raw_scores: npt.NDArray[np.float64]


def _binned(batches: Sequence[_Batch], into: dict[CountKey, int] | None = None) -> dict[CountKey, int]:
    """The batches' bin counts, added to `into`; the batches of one model and day are binned together."""
    counts = into if into is not None else {}
    by_day: dict[tuple[int, str, date], list[_Batch]] = defaultdict(list)
    for batch in batches:
        by_day[(id(batch.reference), batch.model_version, batch.day)].append(batch)
    for (_, model_version, day), same in by_day.items():
        features = np.concatenate([b.features for b in same])
        raw_scores = np.concatenate([b.raw_scores for b in same])
        for feature, bin_, items in same[0].reference.bin_counts(features, raw_scores):
            key = (model_version, day, feature, bin_)
            counts[key] = counts.get(key, 0) + items
    return counts


def _upsert(session: Session, counts: dict[CountKey, int]) -> None:
    """Add counts with one upsert statement (no read, no lock beyond the rows written).

    Rows go in a fixed order (model version, day, feature, bin), so concurrent writers take the row locks in
    the same order.
    """
    if not counts:
        return
    rows = [
        {"model_version": model_version, "day": day, "feature": feature, "bin": bin_, "items": items}
        for (model_version, day, feature, bin_), items in sorted(counts.items())
    ]
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_COUNTS)
    statement = statement.on_conflict_do_update(
        index_elements=["model_version", "day", "feature", "bin"],
        set_={"items": _COUNTS.c["items"] + statement.excluded["items"]},
    )
    # One statement compiled once and executed for every row (a VALUES list of a batch's length would be
    # compiled anew for every batch).
    session.execute(statement, rows)


class DriftCountBuffer:
    """Drift counts of this process's committed batches, added to drift_counts every `flush_seconds` by a
    background thread, in a transaction of their own, and once more at stop.

    A batch's transaction then writes no drift rows: a one-item batch skips binning every feature and an
    upsert of ~55 rows, and batches of all processes no longer meet on the same count rows. A process that is
    killed loses the counts of at most its last `flush_seconds`. A flush that fails keeps its counts for the
    next one.
    """

    def __init__(self, sessions: sessionmaker[Session], flush_seconds: float) -> None:
        self._sessions = sessions
        self._flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._batches: list[_Batch] = []  # committed, not yet binned
        self._counts: dict[CountKey, int] = {}  # binned, not yet written (a failed flush's)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Give the factory's sessions this buffer (see count_batch) and start flushing."""
        self._sessions.configure(info={**self._sessions.kw.get("info", {}), _BUFFER: self})
        self._thread = threading.Thread(target=self._run, name="drift-counts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background flushes, then flush what is pending (at shutdown, after the last request); a
        batch that still commits afterwards writes its counts in its own transaction."""
        info = {k: v for k, v in self._sessions.kw.get("info", {}).items() if k != _BUFFER}
        self._sessions.configure(info=info)
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        self._flush_logged()

    def add(self, batch: _Batch) -> None:
        with self._lock:
            self._batches.append(batch)

    def flush(self) -> None:
        """Add every pending count to the database in one transaction; if that fails, they stay pending."""
        with self._lock:
            batches, self._batches = self._batches, []
            pending, self._counts = self._counts, {}
        try:
            counts = _binned(batches, into=dict(pending))
        except BaseException:
            self._keep(batches, pending)
            raise
        try:
            if counts:
                with self._sessions.begin() as session:
                    _upsert(session, counts)
        except BaseException:
            self._keep([], counts)
            raise

    def _keep(self, batches: list[_Batch], counts: dict[CountKey, int]) -> None:
        with self._lock:
            self._batches[:0] = batches
            for key, items in counts.items():
                self._counts[key] = self._counts.get(key, 0) + items

    def _flush_logged(self) -> None:
        try:
            self.flush()
        except Exception:
            logger.exception("drift counts not written; kept for the next flush")

    def _run(self) -> None:
        while not self._stopping.wait(self._flush_seconds):
            self._flush_logged()


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
