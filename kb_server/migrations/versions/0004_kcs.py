"""kcs: ticket-article links, article flags

Revision ID: 0004_kcs
Revises: 0003
Create Date: 2026-12-02 16:01:01

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_kcs'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('article_flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('article_language', sa.String(length=8), nullable=False),
    sa.Column('article_slug', sa.String(length=200), nullable=False),
    sa.Column('translation_key', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_by', sa.String(length=254), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('article_flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_flag_article_slug'), ['article_slug'], unique=False)
        batch_op.create_index(batch_op.f('ix_article_flag_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_article_flag_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_article_flag_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticket_article',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('article_language', sa.String(length=8), nullable=False),
    sa.Column('article_slug', sa.String(length=200), nullable=False),
    sa.Column('translation_key', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('relation', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id', 'article_language', 'article_slug', 'relation', name='uq_ticket_article_link')
    )
    with op.batch_alter_table('ticket_article', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_article_article_slug'), ['article_slug'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_article_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_article_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_article_translation_key'), ['translation_key'], unique=False)



def downgrade():
    with op.batch_alter_table('ticket_article', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_article_translation_key'))
        batch_op.drop_index(batch_op.f('ix_ticket_article_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_article_created_at'))
        batch_op.drop_index(batch_op.f('ix_ticket_article_article_slug'))

    op.drop_table('ticket_article')
    with op.batch_alter_table('article_flag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_flag_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_article_flag_status'))
        batch_op.drop_index(batch_op.f('ix_article_flag_created_at'))
        batch_op.drop_index(batch_op.f('ix_article_flag_article_slug'))

    op.drop_table('article_flag')
