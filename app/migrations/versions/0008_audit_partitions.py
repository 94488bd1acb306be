"""audit chains per partition, anchored periodically, so appends do not serialise the service

Existing records become chain 0, at the position of their seq (their hashes and payloads are unchanged).
On PostgreSQL the global seq comes from the sequence audit_seq, started after the last record.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_POSITION = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('chain_seq', _POSITION, nullable=True))
    op.execute('UPDATE audit_log SET chain_seq = seq')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column('chain', existing_type=sa.Integer(), server_default=None)
        batch_op.alter_column('chain_seq', existing_type=_POSITION, nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_log_chain_chain_seq'), ['chain', 'chain_seq'])
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        start = bind.execute(sa.text('SELECT coalesce(max(seq), 0) + 1 FROM audit_log')).scalar_one()
        op.execute(sa.schema.CreateSequence(sa.Sequence('audit_seq', start=start)))


def downgrade() -> None:
    # One chain numbered 1, 2, ... cannot hold records written in chains: their payloads (hashed) name their
    # chain and global seq. Refuse rather than leave a log the old verification reports as broken.
    bind = op.get_bind()
    partitioned = bind.execute(
        sa.text('SELECT count(*) FROM audit_log WHERE chain <> 0 OR chain_seq <> seq')
    ).scalar_one()
    if partitioned:
        raise RuntimeError(
            f'{partitioned} audit records were written in partitioned chains; export and verify the audit log'
            ' (python -m app verify-audit), then empty it, before downgrading below 0008'
        )
    if bind.dialect.name == 'postgresql':
        op.execute(sa.schema.DropSequence(sa.Sequence('audit_seq')))
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_log_chain_chain_seq'), type_='unique')
        batch_op.drop_column('chain_seq')
        batch_op.drop_column('chain')
