"""failed authentications by client address and credential, for the sign-in and bearer rate limits

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('auth_failures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bucket', sa.String(length=80), nullable=False),
    sa.Column('at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_auth_failures_bucket_at', 'auth_failures', ['bucket', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_auth_failures_bucket_at', table_name='auth_failures')
    op.drop_table('auth_failures')
