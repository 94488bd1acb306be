"""Migration 0010 (party_history fillfactor 70 on PostgreSQL): the table gets it, the model's own DDL says the
same, the migration round-trips on both databases, and the reason holds: with free space on the pages, most of
a batch-like update of existing rows stays on its page (HOT), which with full pages almost none does."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from app.db.base import Base
from app.db.engine import make_engine
from app.db.migrate import downgrade, upgrade
from tests.conftest import fresh_database, pg_schema

ROWS = 4_000


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path, "radar_fillfactor") as url:
        yield url


def _options(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                text("SELECT reloptions FROM pg_class WHERE oid = 'party_history'::regclass")
            ).scalar_one()
            or []
        )


def test_the_migration_round_trips(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        postgres = engine.dialect.name == "postgresql"
        if postgres:
            assert _options(engine) == ["fillfactor=70"]
        downgrade(database_url, "0009")
        if postgres:
            assert _options(engine) == ["fillfactor=100"]
        upgrade(database_url)
        if postgres:
            assert _options(engine) == ["fillfactor=70"]
        with engine.connect() as connection:  # SQLite: the table is as it was, and still takes rows
            connection.execute(
                text(
                    "INSERT INTO party_history (entity_key, first_seen, last_seen, items_short, items_long,"
                    " counterparties, countries, holds, seizures) VALUES ('snd:1', 0, 0, 1, 1, '', '', 0, 0)"
                )
            )
    finally:
        engine.dispose()


def test_the_model_creates_the_table_with_it() -> None:
    with pg_schema("radar_fillfactor_model") as url:
        engine = make_engine(url)
        try:
            Base.metadata.create_all(engine)
            assert _options(engine) == ["fillfactor=70"]
        finally:
            engine.dispose()


def _hot_share(engine: Engine) -> float:
    """The share of an update of every row (as a batch updates its keys) that stayed on its page."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO party_history (entity_key, first_seen, last_seen, items_short, items_long,"
                " counterparties, countries, holds, seizures)"
                " SELECT 'snd:' || lpad(i::text, 16, '0'), 0, 0, 1, 1, 'adr:' || i, 'NL', 0, 0"
                " FROM generate_series(1, :rows) AS i"
            ),
            {"rows": ROWS},
        )
    with engine.begin() as connection:
        connection.execute(text("UPDATE party_history SET items_short = items_short + 1, last_seen = 1"))
        hot = connection.execute(
            text("SELECT n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relid = 'party_history'::regclass")
        ).scalar_one()
    return float(hot) / ROWS


def test_updates_stay_on_their_page_with_the_free_space() -> None:
    shares = {}
    for revision, fillfactor in (("0009", 100), ("head", 70)):
        with pg_schema(f"radar_fillfactor_{fillfactor}") as url:
            upgrade(url, revision)
            engine = make_engine(url)
            try:
                shares[fillfactor] = _hot_share(engine)
            finally:
                engine.dispose()
    assert shares[100] < 0.05
    assert shares[70] > 0.3, shares
