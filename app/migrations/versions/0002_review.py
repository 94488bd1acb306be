"""review workflow: web sessions, clear-text access log, OIDC subjects, outcome kinds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 01:54:40.443551

Columns are added and dropped with plain ALTER TABLE (no batch table rebuild): rebuilding `officers` or
`outcomes` on SQLite would drop a table other rows reference while foreign keys are enforced.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('web_sessions',
    sa.Column('id_sha256', sa.String(length=64), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_web_sessions_officer_id_officers')),
    sa.PrimaryKeyConstraint('id_sha256', name=op.f('pk_web_sessions'))
    )
    op.create_index(op.f('ix_web_sessions_expires_at'), 'web_sessions', ['expires_at'], unique=False)
    op.create_index(op.f('ix_web_sessions_officer_id'), 'web_sessions', ['officer_id'], unique=False)

    op.create_table('party_access_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('accessed_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('audit_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['review_cases.id'], name=op.f('fk_party_access_log_case_id_review_cases')),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_party_access_log_officer_id_officers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_party_access_log'))
    )
    op.create_index(op.f('ix_party_access_log_case_id'), 'party_access_log', ['case_id'], unique=False)
    op.create_index(op.f('ix_party_access_log_officer_id'), 'party_access_log', ['officer_id'], unique=False)

    op.add_column('officers', sa.Column('external_subject', sa.String(length=255), nullable=True))
    op.create_index(op.f('ix_officers_external_subject'), 'officers', ['external_subject'], unique=True)

    op.add_column('outcomes', sa.Column('kind', sa.String(length=16), server_default='inspection', nullable=False))
    op.add_column('outcomes', sa.Column('reason', sa.Text(), nullable=True))
    op.add_column('outcomes', sa.Column('lab_reference', sa.String(length=64), nullable=True))

    op.create_index('ix_review_cases_created_at', 'review_cases', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_review_cases_created_at', table_name='review_cases')

    op.drop_column('outcomes', 'lab_reference')
    op.drop_column('outcomes', 'reason')
    op.drop_column('outcomes', 'kind')

    op.drop_index(op.f('ix_officers_external_subject'), table_name='officers')
    op.drop_column('officers', 'external_subject')

    op.drop_index(op.f('ix_party_access_log_officer_id'), table_name='party_access_log')
    op.drop_index(op.f('ix_party_access_log_case_id'), table_name='party_access_log')
    op.drop_table('party_access_log')

    op.drop_index(op.f('ix_web_sessions_officer_id'), table_name='web_sessions')
    op.drop_index(op.f('ix_web_sessions_expires_at'), table_name='web_sessions')
    op.drop_table('web_sessions')
