"""Migration 0002 (review workflow) upgrades and downgrades with data in place, on SQLite and PostgreSQL."""

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from app.db.base import Base
from app.db.engine import make_engine
from app.db.migrate import downgrade, upgrade
from tests.conftest import pg_schema

NEW_TABLES = {"web_sessions", "party_access_log"}


def _seed_0001(url: str) -> None:
    """An officer with a token, so the officers table is referenced while it is altered."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO officers (username, display_name, role, created_at) "
                "VALUES ('ada', 'Ada', 'officer', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO officer_tokens (officer_id, prefix, secret_sha256, created_at) "
                "SELECT id, 'abcd1234', :sha, CURRENT_TIMESTAMP FROM officers WHERE username = 'ada'"
            ),
            {"sha": "0" * 64},
        )
    engine.dispose()


def _round_trip(url: str) -> list[str]:
    """Upgrade with data in place, downgrade, upgrade again; the officers that survived all three."""
    upgrade(url, "0001")
    _seed_0001(url)
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) >= NEW_TABLES
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        kinds = connection.execute(
            text("SELECT count(*) FROM officers WHERE external_subject IS NULL")
        ).scalar()
        assert kinds == 1
    downgrade(url, "0001")
    with engine.connect() as connection:
        inspector = inspect(connection)
        assert not NEW_TABLES & set(inspector.get_table_names())
        assert "external_subject" not in {c["name"] for c in inspector.get_columns("officers")}
        assert "kind" not in {c["name"] for c in inspector.get_columns("outcomes")}
        assert connection.execute(text("SELECT username FROM officers")).scalars().all() == ["ada"]
    upgrade(url)
    with engine.connect() as connection:
        survivors = list(connection.execute(text("SELECT username FROM officers")).scalars())
    engine.dispose()
    return survivors


def test_review_migration_round_trip_on_sqlite(tmp_path_factory: pytest.TempPathFactory) -> None:
    assert _round_trip(f"sqlite:///{tmp_path_factory.mktemp('migration') / 'radar.db'}") == ["ada"]


@pytest.fixture
def fresh_pg_schema() -> Iterator[str]:
    with pg_schema("radar_migration") as url:
        yield url


@pytest.mark.postgres
def test_review_migration_round_trip_on_postgres(fresh_pg_schema: str) -> None:
    assert _round_trip(fresh_pg_schema) == ["ada"]
