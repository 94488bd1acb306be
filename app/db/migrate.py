"""Alembic migrations, run programmatically so `python -m app migrate` needs no alembic.ini."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db.engine import make_engine, normalise_database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Held (session level, on a connection of its own) around every upgrade on PostgreSQL: replicas that start
# together migrate one after another, and the ones that wait find the schema already at the newest revision.
# SQLite needs none: one host, and Alembic's transaction takes the file's write lock.
MIGRATION_LOCK_ID = 7_204_118_003


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalise_database_url(database_url).replace("%", "%%"))
    return config


@contextmanager
def migration_lock(database_url: str) -> Iterator[None]:
    """Hold the PostgreSQL migration advisory lock while the block runs (nothing on SQLite)."""
    if make_url(normalise_database_url(database_url)).get_backend_name() != "postgresql":
        yield
        return
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:lock_id)"), {"lock_id": MIGRATION_LOCK_ID})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:lock_id)"), {"lock_id": MIGRATION_LOCK_ID}
                )
                connection.commit()
    finally:
        engine.dispose()


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at `database_url` to `revision` (default: the newest), one process at a time."""
    with migration_lock(database_url):
        command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    with migration_lock(database_url):
        command.downgrade(alembic_config(database_url), revision)
