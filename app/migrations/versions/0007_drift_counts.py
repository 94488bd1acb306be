"""drift monitoring: per day, model version and feature, the count of scored items in each reference bin

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('drift_counts',
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('feature', sa.String(length=64), nullable=False),
    sa.Column('bin', sa.Integer(), nullable=False),
    sa.Column('items', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('model_version', 'day', 'feature', 'bin', name=op.f('pk_drift_counts'))
    )


def downgrade() -> None:
    op.drop_table('drift_counts')
