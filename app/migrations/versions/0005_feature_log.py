"""the feature log: every scored item keeps the model inputs as scored

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('assessments') as batch:
        batch.add_column(sa.Column('features', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('assessments') as batch:
        batch.drop_column('features')
