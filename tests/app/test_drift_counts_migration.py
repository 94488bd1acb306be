"""Migration 0007 (drift counts) matches the model and round-trips; batches add up on SQLite and PostgreSQL."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select

from app.db.base import Base
from app.db.engine import make_engine, session_factory
from app.db.migrate import downgrade, upgrade
from app.db.tables import DriftCount
from app.services.drift import count_batch
from model.drift import SCORE, fit_reference
from model.features import FEATURE_NAMES, FEATURES
from tests.conftest import pg_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'radar.db'}"
    else:
        with pg_schema("radar_drift") as url:
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
