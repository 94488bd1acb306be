"""Migration 0007 (drift counts) matches the model and round-trips; batches add up on SQLite and PostgreSQL,
in their own transaction or buffered per process (only committed batches, written by a flush or at stop)."""

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from app.db.base import Base
from app.db.engine import make_engine, session_factory
from app.db.migrate import downgrade, upgrade
from app.db.tables import DriftCount
from app.services.drift import DriftCountBuffer, count_batch
from model.drift import SCORE, DriftReference, fit_reference
from model.features import FEATURE_NAMES, FEATURES
from tests.conftest import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path, "radar_drift") as url:
        yield url


def _drift_differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        if "drift_counts" not in inspect(connection).get_table_names():
            return ["no drift_counts table"]
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    return [d for d in differences if "drift_counts" in repr(d)]


def test_the_migration_matches_the_model_and_round_trips(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        assert _drift_differences(engine) == []
        downgrade(database_url, "0006")
        with engine.connect() as connection:
            assert "drift_counts" not in inspect(connection).get_table_names()
        upgrade(database_url)
        assert _drift_differences(engine) == []
    finally:
        engine.dispose()


def test_batches_add_to_the_same_rows(database_url: str) -> None:
    upgrade(database_url)
    rng = np.random.default_rng(3)
    features = rng.normal(size=(400, len(FEATURES)))
    features[::7, 0] = np.nan  # missing values have a bin of their own
    scores = rng.normal(size=400)
    reference = fit_reference(features, scores, period="test")
    engine = make_engine(database_url)
    try:
        for _ in range(2):
            with session_factory(engine)() as session, session.begin():
                count_batch(
                    session,
                    reference=reference,
                    model_version="m1",
                    features=features[:100].tolist(),
                    raw_scores=scores[:100].tolist(),
                )
        with session_factory(engine)() as session:
            total = session.scalar(select(func.sum(DriftCount.items)).where(DriftCount.feature == SCORE))
            rows = session.scalar(select(func.count()).select_from(DriftCount))
            weights = dict(
                session.execute(
                    select(DriftCount.bin, DriftCount.items).where(DriftCount.feature == "weight_g")
                ).all()
            )
        assert total == 200
        assert rows == len(reference.bin_counts(features[:100], scores[:100]))  # one row per bin, added up
        column = FEATURE_NAMES.index("weight_g")
        once = reference.column("weight_g").counts(features[:100, column])
        assert weights == {b: 2 * int(once[b]) for b in np.flatnonzero(once)}
    finally:
        engine.dispose()


class _Counted:
    """A reference fitted on random features, and batches of them counted through count_batch."""

    def __init__(self) -> None:
        rng = np.random.default_rng(5)
        self.features: npt.NDArray[np.float64] = rng.normal(size=(300, len(FEATURES)))
        self.scores: npt.NDArray[np.float64] = rng.normal(size=300)
        self.reference: DriftReference = fit_reference(self.features, self.scores, period="test")

    def count(self, session: Session, model_version: str, rows: slice) -> None:
        count_batch(
            session,
            reference=self.reference,
            model_version=model_version,
            features=self.features[rows].tolist(),
            raw_scores=self.scores[rows].tolist(),
        )


def _rows(engine: Engine, model_version: str) -> dict[tuple[str, int], int]:
    with session_factory(engine)() as session:
        found = session.execute(
            select(DriftCount.feature, DriftCount.bin, DriftCount.items).where(
                DriftCount.model_version == model_version
            )
        ).all()
    return {(feature, bin_): items for feature, bin_, items in found}


def _failing_batch(sessions: sessionmaker[Session], batches: _Counted) -> None:
    with sessions.begin() as session:
        batches.count(session, "buffered", slice(100, 300))
        raise RuntimeError("the batch fails after counting: its transaction rolls back")


def test_buffered_counts_of_committed_batches_are_written_by_a_flush(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    batches = _Counted()
    sessions = session_factory(engine)
    buffer = DriftCountBuffer(sessions, flush_seconds=3600)  # no background flush within the test
    try:
        with session_factory(engine)() as session, session.begin():  # a factory without the buffer
            for rows in (slice(0, 40), slice(40, 41), slice(41, 100)):
                batches.count(session, "direct", rows)
        buffer.start()
        for rows in (slice(0, 40), slice(40, 41), slice(41, 100)):
            with sessions.begin() as session:
                batches.count(session, "buffered", rows)
        with pytest.raises(RuntimeError):
            _failing_batch(sessions, batches)
        assert _rows(engine, "buffered") == {}  # nothing in the database before a flush
        buffer.flush()
        assert _rows(engine, "buffered") == _rows(engine, "direct")  # the rolled-back batch is not in them
        assert (
            sum(items for (feature, _), items in _rows(engine, "buffered").items() if feature == SCORE) == 100
        )
        buffer.flush()  # nothing pending: nothing added twice
        assert _rows(engine, "buffered") == _rows(engine, "direct")
    finally:
        buffer.stop()
        engine.dispose()


def test_buffered_counts_are_flushed_in_the_background_and_at_stop(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    batches = _Counted()
    sessions = session_factory(engine)
    buffer = DriftCountBuffer(sessions, flush_seconds=0.2)
    try:
        buffer.start()
        with sessions.begin() as session:
            batches.count(session, "background", slice(0, 50))
        deadline = time.monotonic() + 10
        while not _rows(engine, "background") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sum(items for (f, _), items in _rows(engine, "background").items() if f == SCORE) == 50
    finally:
        buffer.stop()
    at_stop = session_factory(engine)
    slow = DriftCountBuffer(at_stop, flush_seconds=3600)
    try:
        slow.start()
        with at_stop.begin() as session:
            batches.count(session, "at-stop", slice(0, 7))
        assert _rows(engine, "at-stop") == {}
        slow.stop()  # as the app's shutdown does
        assert sum(items for (f, _), items in _rows(engine, "at-stop").items() if f == SCORE) == 7
        with at_stop.begin() as session:  # a batch committing after the stop writes its own counts
            batches.count(session, "at-stop", slice(7, 10))
        assert sum(items for (f, _), items in _rows(engine, "at-stop").items() if f == SCORE) == 10
    finally:
        engine.dispose()
