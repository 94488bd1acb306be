"""Migration 0003 (rotation-proof keys on assessments) round-trips with an assessment in place, SQLite and PostgreSQL."""

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from app.db.base import Base
from app.db.engine import make_engine
from app.db.migrate import downgrade, upgrade
from tests.app.migration_support import seed_one_assessment
from tests.conftest import pg_schema

KEY_COLUMNS = {"sender_premises_key", "sender_street_key", "sender_name_key", "sender_habit_key", "buyer_key"}


def _columns(connection: Connection) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns("assessments")}


def _round_trip(url: str) -> list[str | None]:
    """Upgrade over an assessment, downgrade, upgrade again; the sender key that survived all three."""
    upgrade(url, "0002")
    seed_one_assessment(url)
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        assert _columns(connection) >= KEY_COLUMNS
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        premises = connection.execute(text("SELECT sender_premises_key FROM assessments")).scalars().all()
        assert premises == [None]  # assessments made before 0003 never named the new keys
    downgrade(url, "0002")
    with engine.connect() as connection:
        assert not KEY_COLUMNS & _columns(connection)
    upgrade(url)
    with engine.connect() as connection:
        survivors = list(connection.execute(text("SELECT sender_key FROM assessments")).scalars())
    engine.dispose()
    return survivors


def test_rotation_keys_migration_round_trip_on_sqlite(tmp_path_factory: pytest.TempPathFactory) -> None:
    assert _round_trip(f"sqlite:///{tmp_path_factory.mktemp('migration') / 'radar.db'}") == ["snd:abc"]


@pytest.fixture
def fresh_pg_schema() -> Iterator[str]:
    with pg_schema("radar_rotation") as url:
        yield url


@pytest.mark.postgres
def test_rotation_keys_migration_round_trip_on_postgres(fresh_pg_schema: str) -> None:
    assert _round_trip(fresh_pg_schema) == ["snd:abc"]
