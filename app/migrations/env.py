"""Alembic environment: one schema for SQLite and PostgreSQL, batch mode so SQLite can alter tables."""

from alembic import context

import app.db.tables  # noqa: F401 - registers every table on Base.metadata
from app.db.base import Base
from app.db.engine import make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("sqlalchemy.url is not set")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            # One transaction for the whole run on SQLite too (Alembic would commit after each migration there),
            # so a migration that refuses (a downgrade that would lose data) leaves every revision as it was.
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=True,
                transactional_ddl=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:  # also when a migration refuses (a downgrade that would lose data): no connection left open
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
