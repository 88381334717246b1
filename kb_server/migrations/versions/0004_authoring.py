"""authoring: articles, their revisions (KCS states), uploads; review dates, scheduled publishing

Revision ID: 0004_authoring
Revises: 0003
Create Date: 2026-12-02 16:23:44.597521

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_authoring'
down_revision = '0004_kcs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('article_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['uploader_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stored_name')
    )
    op.create_table('kb_article',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('translation_key', sa.String(length=100), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('source_ticket_id', sa.Integer(), nullable=True),
    sa.Column('current_revision_id', sa.Integer(), nullable=True),
    sa.Column('published_revision_id', sa.Integer(), nullable=True),
    sa.Column('file_path', sa.String(length=300), nullable=False),
    sa.Column('file_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('review_due', sa.DateTime(), nullable=True),
    sa.Column('publish_at', sa.DateTime(), nullable=True),
    sa.Column('scheduled_revision_id', sa.Integer(), nullable=True),
    sa.Column('scheduled_by_id', sa.Integer(), nullable=True),
    sa.Column('scheduled_base_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['scheduled_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['source_ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('language', 'slug')
    )
    with op.batch_alter_table('kb_article', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_article_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_article_file_path'), ['file_path'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_article_language'), ['language'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_article_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_article_publish_at'), ['publish_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_article_review_due'), ['review_due'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_article_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_article_translation_key'), ['translation_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_article_updated_at'), ['updated_at'], unique=False)

    op.create_table('article_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('translation_key', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('urls', sa.JSON(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['kb_article.id'], ),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('article_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_revision_article_id'), ['article_id'], unique=False)



def downgrade():
    with op.batch_alter_table('article_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_revision_article_id'))

    op.drop_table('article_revision')
    with op.batch_alter_table('kb_article', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_article_updated_at'))
        batch_op.drop_index(batch_op.f('ix_kb_article_translation_key'))
        batch_op.drop_index(batch_op.f('ix_kb_article_state'))
        batch_op.drop_index(batch_op.f('ix_kb_article_review_due'))
        batch_op.drop_index(batch_op.f('ix_kb_article_publish_at'))
        batch_op.drop_index(batch_op.f('ix_kb_article_owner_id'))
        batch_op.drop_index(batch_op.f('ix_kb_article_language'))
        batch_op.drop_index(batch_op.f('ix_kb_article_file_path'))
        batch_op.drop_index(batch_op.f('ix_kb_article_category'))

    op.drop_table('kb_article')
    op.drop_table('article_upload')
