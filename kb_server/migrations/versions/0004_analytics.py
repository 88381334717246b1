"""analytics: daily rollups of the events (days, queries, articles)

Revision ID: 0004_analytics
Revises: 0003
Create Date: 2026-12-02 16:01:49.063856

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_analytics'
down_revision = '0004_authoring'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('analytics_article_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('site_key', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('article_id', sa.String(length=200), nullable=False),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.Column('helpful', sa.Integer(), nullable=False),
    sa.Column('not_helpful', sa.Integer(), nullable=False),
    sa.Column('contacts_after', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('analytics_article_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analytics_article_day_day'), ['day'], unique=False)

    op.create_table('analytics_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('site_key', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('quarters', sa.JSON(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('analytics_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analytics_day_day'), ['day'], unique=False)

    op.create_table('analytics_query_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('site_key', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('query', sa.String(length=500), nullable=False),
    sa.Column('searches', sa.Integer(), nullable=False),
    sa.Column('zero_results', sa.Integer(), nullable=False),
    sa.Column('clicked', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('analytics_query_day', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_query_day_covering', ['day', 'query', 'site_key',
                              'language', 'searches', 'zero_results', 'clicked'], unique=False)

    op.create_table('analytics_rollup_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('day')
    )


def downgrade():
    op.drop_table('analytics_rollup_day')
    with op.batch_alter_table('analytics_query_day', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_query_day_covering')

    op.drop_table('analytics_query_day')
    with op.batch_alter_table('analytics_day', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analytics_day_day'))

    op.drop_table('analytics_day')
    with op.batch_alter_table('analytics_article_day', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analytics_article_day_day'))

    op.drop_table('analytics_article_day')
