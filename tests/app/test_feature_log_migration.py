"""Migration 0005 (the feature log on assessments) round-trips with an assessment in place, SQLite and PostgreSQL."""

from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import Connection, Engine, inspect, text

from app.db.engine import make_engine
from app.db.migrate import downgrade, upgrade
from tests.app.migration_support import seed_one_assessment
from tests.conftest import pg_schema


def _has_feature_log(connection: Connection) -> bool:
    return "features" in {column["name"] for column in inspect(connection).get_columns("assessments")}


VECTOR = np.array([1.5, np.nan, -0.0, 2e-300], dtype="<f8").tobytes()
# What each stage sees: (feature column present, its value, the older columns' sender_key).
EXPECTED_STAGES = [
    ("0005 over an assessment", True, None, "snd:abc"),
    ("a vector logged", True, VECTOR, "snd:abc"),
    ("downgraded to 0004", False, None, "snd:abc"),
    ("upgraded again", True, None, "snd:abc"),
]


def _stage(engine: Engine, name: str) -> tuple[str, bool, bytes | None, str]:
    with engine.connect() as connection:
        present = _has_feature_log(connection)
        columns = "features, sender_key" if present else "NULL, sender_key"
        features, sender_key = connection.execute(text(f"SELECT {columns} FROM assessments")).one()
    return name, present, None if features is None else bytes(features), sender_key


def _round_trip(url: str) -> list[tuple[str, bool, bytes | None, str]]:
    """Upgrade over an assessment, log a vector, downgrade (the row stays), upgrade again."""
    upgrade(url, "0004")
    seed_one_assessment(url)
    upgrade(url, "0005")
    engine = make_engine(url)
    try:
        stages = [_stage(engine, "0005 over an assessment")]
        with engine.begin() as connection:
            connection.execute(text("UPDATE assessments SET features = :v"), {"v": VECTOR})
        stages.append(_stage(engine, "a vector logged"))
        downgrade(url, "0004")
        stages.append(_stage(engine, "downgraded to 0004"))
        upgrade(url, "0005")
        stages.append(_stage(engine, "upgraded again"))
    finally:
        engine.dispose()
    return stages


def test_feature_log_migration_round_trip_on_sqlite(tmp_path_factory: pytest.TempPathFactory) -> None:
    assert _round_trip(f"sqlite:///{tmp_path_factory.mktemp('migration') / 'radar.db'}") == EXPECTED_STAGES


@pytest.fixture
def fresh_pg_schema() -> Iterator[str]:
    with pg_schema("radar_feature_log") as url:
        yield url


@pytest.mark.postgres
def test_feature_log_migration_round_trip_on_postgres(fresh_pg_schema: str) -> None:
    assert _round_trip(fresh_pg_schema) == EXPECTED_STAGES
