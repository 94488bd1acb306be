"""rotation-proof entity keys on assessments: premises, street, name, posting habit, buyer

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 19:00:00.000000

A seizure recorded later is linked to every key the assessed item named, so the keys that survive a vendor's
identity rotation are stored with the assessment. Older assessments keep NULL there (they never named them).
Plain ALTER TABLE, as in 0002.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY_COLUMNS = ('sender_premises_key', 'sender_street_key', 'sender_name_key', 'sender_habit_key', 'buyer_key')


def upgrade() -> None:
    for name in KEY_COLUMNS:
        op.add_column('assessments', sa.Column(name, sa.String(length=40), nullable=True))


def downgrade() -> None:
    for name in reversed(KEY_COLUMNS):
        op.drop_column('assessments', name)
