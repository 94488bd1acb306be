"""the model registry: registered artifacts, their status (champion, shadow, retired) and shadow scores

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('model_versions',
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('registered_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('registered_by', sa.String(length=64), nullable=False),
    sa.Column('promoted_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('retired_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_model_versions'))
    )
    op.create_index(op.f('ix_model_versions_status'), 'model_versions', ['status'], unique=False)
    op.create_table('model_files',
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['version'], ['model_versions.version'], name=op.f('fk_model_files_version_model_versions')),
    sa.PrimaryKeyConstraint('version', 'name', name=op.f('pk_model_files'))
    )
    op.create_table('shadow_scores',
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('assessment_id', sa.String(length=32), nullable=False),
    sa.Column('raw_score', sa.Float(), nullable=False),
    sa.Column('probability', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_shadow_scores_assessment_id_assessments')),
    sa.ForeignKeyConstraint(['version'], ['model_versions.version'], name=op.f('fk_shadow_scores_version_model_versions')),
    sa.PrimaryKeyConstraint('version', 'assessment_id', name=op.f('pk_shadow_scores'))
    )


def downgrade() -> None:
    op.drop_table('shadow_scores')
    op.drop_table('model_files')
    op.drop_index(op.f('ix_model_versions_status'), table_name='model_versions')
    op.drop_table('model_versions')
