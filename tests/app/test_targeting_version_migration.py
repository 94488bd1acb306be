"""Migration 0009 (targeting version): the table matches the model, the counter starts at the number of
changes already made (so no process's cache from before the upgrade matches it) and grows with every change,
and the migration round-trips."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select

from app.credentials import Role, create_officer
from app.db.base import Base
from app.db.engine import make_engine, session_factory
from app.db.migrate import downgrade, upgrade
from app.db.tables import TargetingVersion
from app.services.policy_admin import add_list_entry, revoke_list_entry, save_rule, set_capacity
from app.services.rules import RuleConditions
from tests.conftest import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path, "radar_targeting_version") as url:
        yield url


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    return [d for d in differences if "targeting_version" in repr(d)]


def _version(engine: Engine) -> int:
    with session_factory(engine)() as session:
        return session.execute(select(TargetingVersion.version)).scalar_one()


def test_the_counter_starts_at_the_changes_made_and_round_trips(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        assert _differences(engine) == []
        assert _version(engine) == 0
        with session_factory(engine)() as session, session.begin():
            officer = create_officer(session, username="sup", display_name="Sup", role=Role.SUPERVISOR)
            entry = add_list_entry(
                session, officer=officer, list_kind="watch", entity="sender", key="snd:0123456789abcdef",
                label="a sender", reason="test", expires_at=None,
            )  # fmt: skip
            revoke_list_entry(session, officer=officer, entry_id=entry.id, reason="test")
            save_rule(
                session, officer=officer, rule_id="r1", name="NL", conditions=RuleConditions(origins=["NL"]),
                action="hold", raise_by=0.0, active=True, expires_at=None,
            )  # fmt: skip
            set_capacity(
                session, officer=officer, scope="global", inspection_rate=0.02, exploration_share=0.1
            )
        assert _version(engine) == 4
        downgrade(database_url, "0008")
        with engine.connect() as connection:
            assert "targeting_version" not in inspect(connection).get_table_names()
        upgrade(database_url)
        assert _differences(engine) == []
        assert _version(engine) == 4  # entry added, entry revoked, rule version, capacity audit record
    finally:
        engine.dispose()
