"""The live threshold: windows of recent raw scores per partner and model version, updated as items are scored."""

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.engine import after_commit
from app.db.tables import Assessment
from app.ids import first_id_at
from app.services.policy import Threshold

# A deficit or excess of model holds is made up over the next quarter of the window's items, or over the
# items in which CATCH_UP_HOLDS holds are due when that comes sooner (a day's window of a large partner).
CATCH_UP_SHARE = 0.25
CATCH_UP_HOLDS = 10
RATE_BOUNDS = (0.25, 3.0)  # the corrected rate stays within these multiples of the target
# A row may become visible to other processes this long after its id was made (its batch's transaction is
# still open); each top-up reads again from this far back and skips the ids it already has.
COMMIT_MARGIN = timedelta(seconds=10)
ScoredRow = tuple[str, datetime, float, str | None]  # assessment id, created_at, raw score, selection reason
WindowKey = tuple[int | None, str]  # (partner id, or None for every partner; model version)


def _floats(values: Sequence[float]) -> npt.NDArray[np.float64]:
    return np.array(values, dtype=np.float64)


# Scores join a window in slack kept at the end of its arrays, and in a small sorted array merged into the
# sorted window once it holds this many: adding a batch costs its own size, not the window's (a day of a large
# partner's items).
MERGE_EVERY = 512


def _grown(values: npt.NDArray[Any], size: int, extra: int) -> npt.NDArray[Any]:
    """`values` with room for `extra` more after its first `size` (a quarter more when it lacks it: a window
    holds a day of a large partner's scores, so the slack is memory every process keeps)."""
    if size + extra <= len(values):
        return values
    grown = np.empty(max(len(values) + len(values) // 4, size + extra, 64), dtype=values.dtype)
    grown[:size] = values[:size]
    return grown


@dataclass
class ScoreWindow:
    """Recent raw scores under one model version, when each was made, and whether the model lane held it."""

    _created: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    _scores: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    _model_held: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))
    size: int = 0  # the arrays' first `size` entries are the window's
    ordered: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))  # sorted, but for `recent`
    recent: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))  # the rest, sorted
    held: int = 0  # model_held.sum()
    recent_ids: dict[str, float] = field(default_factory=dict)  # ids a top-up may read again: skipped
    read_from: datetime | None = None  # the next top-up reads ids made from here on
    loaded_at: float = -math.inf  # time.monotonic() of the last top-up
    used_at: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def created(self) -> npt.NDArray[np.float64]:
        return self._created[: self.size]

    @property
    def scores(self) -> npt.NDArray[np.float64]:
        return self._scores[: self.size]

    @property
    def model_held(self) -> npt.NDArray[np.bool_]:
        return self._model_held[: self.size]

    def add(self, rows: Sequence[ScoredRow]) -> None:
        """Add rows not seen before (call with `lock` held)."""
        fresh = [row for row in rows if row[0] not in self.recent_ids]
        if not fresh:
            return
        self.recent_ids.update((row[0], row[1].timestamp()) for row in fresh)
        size, end = self.size, self.size + len(fresh)
        self._created = _grown(self._created, size, len(fresh))
        self._created[size:end] = [row[1].timestamp() for row in fresh]
        self._scores = _grown(self._scores, size, len(fresh))
        self._scores[size:end] = [row[2] for row in fresh]
        self._model_held = _grown(self._model_held, size, len(fresh))
        self._model_held[size:end] = [row[3] == "model" for row in fresh]
        self.size = end
        self.held += int(self._model_held[size:end].sum())
        scores = np.sort(self._scores[size:end])
        if (
            len(self.recent) + len(scores) < MERGE_EVERY
        ):  # new arrays: a reader outside the lock keeps its own
            self.recent = np.insert(self.recent, np.searchsorted(self.recent, scores), scores)
        else:
            self.ordered = np.sort(np.concatenate([self.ordered, self.recent, scores]))
            self.recent = np.zeros(0)

    def forget(self, *, older_than: datetime, read_from: datetime) -> None:
        """Drop scores made before `older_than`, and the ids no top-up from `read_from` on can return."""
        keep = self.created >= older_than.timestamp()
        if not keep.all():
            self._created = self.created[keep]
            self._scores = self.scores[keep]
            self._model_held = self.model_held[keep]
            self.size = len(self._scores)
            self.ordered, self.recent = np.sort(self._scores), np.zeros(0)
            self.held = int(self._model_held.sum())
        floor = read_from.timestamp()
        self.recent_ids = {key: made for key, made in self.recent_ids.items() if made >= floor}
        self.read_from = read_from

    def corrected_rate(self, rate: float) -> float:
        """The model-lane rate that brings the window's realised rate back to `rate` over the catch-up horizon."""
        deficit = rate * self.size - self.held
        horizon = min(CATCH_UP_SHARE * self.size, CATCH_UP_HOLDS / rate)
        corrected = rate + deficit / max(1.0, horizon)
        return min(max(corrected, rate * RATE_BOUNDS[0]), rate * RATE_BOUNDS[1], 1.0)


def threshold_for(scores: npt.NDArray[np.float64], rate: float, source: str) -> Threshold:
    """The score that `rate` of `scores` lie above; items tied at it are held with the probability that meets
    the rate, so blocks of equal scores neither overshoot nor undershoot."""
    if len(scores) == 0:
        return Threshold(math.inf, 0.0, source)
    raw = float(np.quantile(scores, 1.0 - rate, method="higher"))
    above, tied = int((scores > raw).sum()), int((scores == raw).sum())
    return Threshold(raw, min(1.0, max(0.0, (rate * len(scores) - above) / tied)), source)


def threshold_among(
    ordered: npt.NDArray[np.float64], batch: npt.NDArray[np.float64], rate: float, source: str
) -> Threshold:
    """`threshold_for` the window's scores (`ordered`: sorted) and the batch's, without copying or scanning the
    window: the quantile is the smallest of the batch's scores and the window's few scores at its rank whose
    count at or below it reaches the rank, by binary search (a window holds a day of a partner's items)."""
    extra = np.sort(batch)
    count = len(ordered) + len(extra)
    if count == 0 or (len(ordered) and np.isnan(ordered[-1])) or (len(extra) and np.isnan(extra[-1])):
        return threshold_for(np.concatenate([ordered, batch]), rate, source)  # NaN: numpy's own answer
    rank = int(np.ceil((count - 1) * (1.0 - rate)))  # np.quantile's index for method="higher"
    candidates = np.concatenate([extra, ordered[max(0, rank - len(extra)) : rank + 1]])
    at_or_below = np.searchsorted(ordered, candidates, "right") + np.searchsorted(extra, candidates, "right")
    raw = float(candidates[at_or_below > rank].min())
    below = int(np.searchsorted(ordered, raw, "left") + np.searchsorted(extra, raw, "left"))
    up_to = int(np.searchsorted(ordered, raw, "right") + np.searchsorted(extra, raw, "right"))
    above, tied = count - up_to, up_to - below
    return Threshold(raw, min(1.0, max(0.0, (rate * count - above) / tied)), source)


@dataclass
class LiveThresholds:
    """Score windows per (partner, model version) and per model version, kept by each process.

    A batch's own scores count in its threshold, and join its windows when its transaction commits; a top-up
    at most every `refresh_seconds` adds the rows other processes committed. A partner's threshold is the score quantile of its window plus the batch,
    at its target rate corrected by its own shortfall or excess of model holds; a partner with fewer than
    `min_items` scores in its window takes the quantile over every partner's window of that model version
    instead, so small partners keep their rate from their first item.
    """

    window: timedelta
    min_items: int
    refresh_seconds: float
    _windows: dict[WindowKey, ScoreWindow] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)  # guards `_windows` only, never a query

    def threshold(
        self,
        session: Session,
        *,
        partner_id: int,
        model_version: str,
        batch_scores: npt.NDArray[np.float64],
        rate: float,
    ) -> Threshold:
        """The threshold for selecting `rate` of this partner's items, counting the batch's own scores."""
        own = self._current(session, (partner_id, model_version))
        with own.lock:
            ordered, recent, rate = own.ordered, own.recent, own.corrected_rate(rate)
        if len(ordered) + len(recent) >= self.min_items:
            return threshold_among(ordered, np.concatenate([recent, batch_scores]), rate, "partner")
        pool = self._current(session, (None, model_version))
        with pool.lock:
            ordered, recent = pool.ordered, pool.recent
        return threshold_among(ordered, np.concatenate([recent, batch_scores]), rate, "model version")

    def record(
        self, session: Session, *, partner_id: int, model_version: str, rows: Sequence[ScoredRow]
    ) -> None:
        """Count rows this process has just scored in the partner's and the model version's windows, once
        `session` commits them (a rolled-back batch, retried or not, never counts)."""
        after_commit(session, lambda: self._committed(partner_id, model_version, rows))

    def _committed(self, partner_id: int, model_version: str, rows: Sequence[ScoredRow]) -> None:
        for key in ((partner_id, model_version), (None, model_version)):
            window = self._window(key)
            with window.lock:
                window.add(rows)

    def _window(self, key: WindowKey) -> ScoreWindow:
        """The window of `key`; windows unused for a whole window's length (a retired model's) are dropped."""
        now = time.monotonic()
        with self._lock:
            if key not in self._windows:
                idle = [k for k, w in self._windows.items() if now - w.used_at > self.window.total_seconds()]
                for stale in idle:
                    del self._windows[stale]
            window = self._windows.setdefault(key, ScoreWindow())
            window.used_at = now
            return window

    def _current(self, session: Session, key: WindowKey) -> ScoreWindow:
        """The window of `key`, first topped up from the database if it is due."""
        window = self._window(key)
        with window.lock:
            if time.monotonic() - window.loaded_at > self.refresh_seconds:
                self._top_up(session, key, window)
        return window

    def _top_up(self, session: Session, key: WindowKey, window: ScoreWindow) -> None:
        now = utcnow()
        since = now - self.window
        read_from = since if window.read_from is None else max(since, window.read_from)
        partner_id, model_version = key
        query = select(
            Assessment.id, Assessment.created_at, Assessment.raw_score, Assessment.selection_reason
        ).where(Assessment.model_version == model_version, Assessment.id >= first_id_at(read_from))
        if partner_id is not None:
            query = query.where(Assessment.partner_id == partner_id)
        window.add([(r[0], r[1], r[2], r[3]) for r in session.execute(query)])
        window.forget(older_than=since, read_from=now - COMMIT_MARGIN)
        window.loaded_at = time.monotonic()
