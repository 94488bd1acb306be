"""targeting version: one counter of rule, list and capacity changes, read by each process's targeting cache

Replaces counting the rows of rule_versions and list_entries (and the capacity audit records) in every
transaction: a read that grew with the tables. The counter starts at the number of changes already made, so a
cache filled before the upgrade still differs from it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table('targeting_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_targeting_version'))
    )
    changes = op.get_bind().execute(sa.text(
        "SELECT (SELECT count(*) FROM rule_versions) + (SELECT count(*) FROM list_entries)"
        " + (SELECT count(revoked_at) FROM list_entries)"
        " + (SELECT count(*) FROM audit_log WHERE action IN ('capacity.set', 'capacity.delete'))"
    )).scalar_one()
    op.bulk_insert(table, [{'id': 1, 'version': changes}])


def downgrade() -> None:
    op.drop_table('targeting_version')
