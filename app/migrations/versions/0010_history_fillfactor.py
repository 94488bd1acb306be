"""party_history fillfactor 70 on PostgreSQL: room on each page for the rows' updates

Every batch updates thousands of history rows while it holds their row locks. With full pages (fillfactor
100) each update writes the new row version to another page and a new primary-key index entry; with 30% of
each page free the updates stay on their page (heap-only tuples, no index entry). Measured on 8,000 keys
(5,000 existing): the history UPDATE 47 -> 30 ms, the lock statement 20.5 -> 16.9 ms. Pages written after the
upgrade get the free space; `VACUUM FULL party_history` applies it to the whole table at once (not needed).
SQLite has no such setting: nothing changes there.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 04:15:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fillfactor(percent: int) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE party_history SET (fillfactor = {percent})")


def upgrade() -> None:
    _fillfactor(70)


def downgrade() -> None:
    _fillfactor(100)
