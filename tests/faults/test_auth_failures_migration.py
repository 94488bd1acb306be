"""Migration 0004 (failed authentications) matches the models and round-trips, on SQLite and PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.db.base import Base
from app.db.engine import make_engine
from app.db.migrate import downgrade, upgrade
from tests.conftest import pg_schema


def _differences_from_models(url: str) -> list[object]:
    """What the migrated schema lacks or has beyond the models (a fresh engine: nothing cached)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if "auth_failures" not in inspect(connection).get_table_names():
                return ["no auth_failures table"]
            return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))
    finally:
        engine.dispose()


def _round_trip(url: str) -> list[list[object]]:
    """The differences from the models after upgrade, downgrade to 0003 and upgrade again."""
    stages = []
    upgrade(url)
    stages.append(_differences_from_models(url))
    downgrade(url, "0003")
    stages.append(_differences_from_models(url))
    upgrade(url)
    stages.append(_differences_from_models(url))
    return stages


ROUND_TRIP = [[], ["no auth_failures table"], []]


def test_auth_failures_migration_round_trip_on_sqlite(tmp_path_factory: pytest.TempPathFactory) -> None:
    assert _round_trip(f"sqlite:///{tmp_path_factory.mktemp('migration') / 'radar.db'}") == ROUND_TRIP


@pytest.mark.postgres
def test_auth_failures_migration_round_trip_on_postgres() -> None:
    with pg_schema("radar_auth_failures") as url:
        assert _round_trip(url) == ROUND_TRIP
