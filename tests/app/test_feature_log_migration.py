"""Migration 0005 (the feature log on assessments) round-trips with an assessment in place, SQLite and PostgreSQL."""

from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import Connection, inspect, text

from app.db.engine import make_engine
from app.db.migrate import downgrade, upgrade
from tests.conftest import pg_schema


def _seed(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO partners (name, kind, created_at) VALUES ('post', 'post', CURRENT_TIMESTAMP)")
        )
        connection.execute(
            text(
                "INSERT INTO assessments (id, partner_id, batch_id, item_index, item_id, posted_at, posted_on,"
                " origin, destination, mail_class, score, raw_score, threshold, decision,"
                " selection_probability, hits, model_version, corridor_key, sender_key, shipment, created_at)"
                " SELECT 'a1', id, 'b1', 0, 'RR123456785NL', CURRENT_TIMESTAMP, CURRENT_DATE, 'NL', 'GB', 'U',"
                " 0.1, -2.0, 1.0, 'release', 1.0, '[]', 'v1', 'cor:NL-GB', 'snd:abc', '{}', CURRENT_TIMESTAMP"
                " FROM partners"
            )
        )
    engine.dispose()


def _has_feature_log(connection: Connection) -> bool:
    return "features" in {column["name"] for column in inspect(connection).get_columns("assessments")}


def _round_trip(url: str) -> None:
    """Upgrade over an assessment, log a vector, downgrade (the row stays), upgrade again."""
    upgrade(url, "0004")
    _seed(url)
    upgrade(url, "0005")
    engine = make_engine(url)
    vector = np.array([1.5, np.nan, -0.0, 2e-300], dtype="<f8").tobytes()
    with engine.begin() as connection:
        assert _has_feature_log(connection)
        assert connection.execute(text("SELECT features FROM assessments")).scalar_one() is None
        connection.execute(text("UPDATE assessments SET features = :v"), {"v": vector})
        assert bytes(connection.execute(text("SELECT features FROM assessments")).scalar_one()) == vector
    downgrade(url, "0004")
    with engine.connect() as connection:
        assert not _has_feature_log(connection)
        assert connection.execute(text("SELECT sender_key FROM assessments")).scalars().all() == ["snd:abc"]
    upgrade(url, "0005")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT features FROM assessments")).scalar_one() is None
    engine.dispose()


def test_feature_log_migration_round_trip_on_sqlite(tmp_path_factory: pytest.TempPathFactory) -> None:
    _round_trip(f"sqlite:///{tmp_path_factory.mktemp('migration') / 'radar.db'}")


@pytest.fixture
def fresh_pg_schema() -> Iterator[str]:
    with pg_schema("radar_feature_log") as url:
        yield url


@pytest.mark.postgres
def test_feature_log_migration_round_trip_on_postgres(fresh_pg_schema: str) -> None:
    _round_trip(fresh_pg_schema)
