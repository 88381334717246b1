"""authoring 2: today's analytics checkpoint; translations know their source revision

Revision ID: 0005_authoring2
Revises: 0004_jobs
Create Date: 2026-12-03 07:30:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_authoring2'
down_revision = '0005_incident_class'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('analytics_today',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('cutoff', sa.DateTime(), nullable=False),
    sa.Column('groups', sa.JSON(), nullable=False),
    sa.Column('open_sessions', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('day')
    )
    with op.batch_alter_table('kb_article') as batch_op:
        batch_op.add_column(sa.Column('source_article_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('source_revision', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_kb_article_source_article_id'), ['source_article_id'], unique=False)


def downgrade():
    with op.batch_alter_table('kb_article') as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_article_source_article_id'))
        batch_op.drop_column('source_revision')
        batch_op.drop_column('source_article_id')
    op.drop_table('analytics_today')
