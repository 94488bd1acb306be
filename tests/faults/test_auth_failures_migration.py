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


def _round_trip(url: str) -> None:
    upgrade(url)
    assert _differences_from_models(url) == []
    downgrade(url, "0003")
    assert _differences_from_models(url) == ["no auth_failures table"]
    upgrade(url)
    assert _differences_from_models(url) == []


def test_auth_failures_migration_round_trip_on_sqlite(tmp_path_factory: pytest.TempPathFactory) -> None:
    _round_trip(f"sqlite:///{tmp_path_factory.mktemp('migration') / 'radar.db'}")


@pytest.mark.postgres
def test_auth_failures_migration_round_trip_on_postgres() -> None:
    with pg_schema("radar_auth_failures") as url:
        _round_trip(url)
