"""Monitoring figures (drift and the live estimate), computed at most once per refresh period per worker.

Scrapes of /metrics and dashboard views read the cached snapshot, so neither runs the queries each time.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.scoring import Scorer
from app.services.drift import DriftReport, DriftThresholds, drift_report
from app.services.live_estimate import LiveEstimate, live_estimate
from app.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MonitoringSnapshot:
    drift: DriftReport
    live: LiveEstimate
    computed_at: float  # time.monotonic() when computed


class Monitor:
    """Recomputes the snapshot when it is older than `refresh_seconds` or the champion model changed."""

    def __init__(
        self,
        *,
        read_sessions: sessionmaker[Session],
        champion: Callable[[], Scorer | None],
        thresholds: DriftThresholds,
        estimate_days: int,
        refresh_seconds: float,
    ) -> None:
        self._read_sessions = read_sessions
        self._champion = champion
        self._thresholds = thresholds
        self._estimate_days = estimate_days
        self._refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self.latest: MonitoringSnapshot | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, read_sessions: sessionmaker[Session], champion: Callable[[], Scorer | None]
    ) -> "Monitor":
        return cls(
            read_sessions=read_sessions,
            champion=champion,
            thresholds=DriftThresholds(
                settings.drift_watch_psi, settings.drift_warn_psi, settings.drift_min_items
            ),
            estimate_days=settings.live_estimate_days,
            refresh_seconds=settings.monitoring_refresh_seconds,
        )

    def snapshot(self) -> MonitoringSnapshot:
        """The cached figures, recomputed first when stale (blocking: call it from a worker thread)."""
        with self._lock:
            scorer = self._champion()
            version = None if scorer is None else scorer.model_version
            latest = self.latest
            if (
                latest is None
                or time.monotonic() - latest.computed_at > self._refresh_seconds
                or latest.drift.model_version != version
            ):
                latest = self.latest = self._compute(scorer)
            return latest

    def snapshot_for_scrape(self) -> MonitoringSnapshot | None:
        """The snapshot, or the last one computed while the database cannot be read (a scrape never fails)."""
        try:
            return self.snapshot()
        except SQLAlchemyError as exc:
            logger.warning("monitoring figures not refreshed: %s", type(exc).__name__)
            return self.latest

    def _compute(self, scorer: Scorer | None) -> MonitoringSnapshot:
        with self._read_sessions() as session:
            drift = drift_report(
                session,
                reference=None if scorer is None else scorer.artifact.drift_reference,
                model_version=None if scorer is None else scorer.model_version,
                thresholds=self._thresholds,
            )
            live = live_estimate(session, days=self._estimate_days)
        return MonitoringSnapshot(drift, live, time.monotonic())
