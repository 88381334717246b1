"""authoring 2: today's analytics checkpoint

Revision ID: 0005_authoring2
Revises: 0004_jobs
Create Date: 2026-12-03 07:30:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_authoring2'
down_revision = '0004_jobs'
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


def downgrade():
    op.drop_table('analytics_today')
