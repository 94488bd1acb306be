"""Replicas that start together on one PostgreSQL database migrate one at a time, and all of them start."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from app.db.engine import make_engine
from app.db.migrate import MIGRATION_LOCK_ID, alembic_config, migration_lock, upgrade
from tests.conftest import pg_schema

pytestmark = pytest.mark.postgres


def schema_revision(database_url: str) -> str | None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()


def waiting_for_the_migration_lock(database_url: str, timeout_s: float = 30.0) -> bool:
    """Whether some session comes to wait (not granted) for the migration advisory lock within the timeout."""
    engine = make_engine(database_url)
    wanted = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND ((classid::bigint << 32) | objid::bigint) = :lock_id"
    )
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                if connection.scalar(wanted, {"lock_id": MIGRATION_LOCK_ID}):
                    return True
            time.sleep(0.05)
        return False
    finally:
        engine.dispose()


def test_an_upgrade_waits_for_the_migration_lock() -> None:
    with pg_schema("radar_lock") as url:
        upgraded = threading.Event()
        worker = threading.Thread(target=lambda: (upgrade(url), upgraded.set()))
        with migration_lock(url):
            worker.start()
            assert waiting_for_the_migration_lock(url), "the upgrade never queued behind the lock"
            assert not upgraded.is_set(), "the upgrade ran while another process held the migration lock"
        worker.join(timeout=60)
        assert upgraded.is_set()
        head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        assert schema_revision(url) == head


def test_replicas_migrating_together_all_succeed() -> None:
    with pg_schema("radar_replicas") as url, ThreadPoolExecutor(max_workers=3) as pool:
        for started in [pool.submit(upgrade, url) for _ in range(3)]:
            started.result(timeout=120)
        head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        assert schema_revision(url) == head
