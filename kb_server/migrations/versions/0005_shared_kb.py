"""the knowledge base every node shares: published files, the generation, passage vectors

Revision ID: 0005_shared_kb
Revises: 0004_jobs
Create Date: 2026-12-03 07:30:00
"""
import datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_shared_kb'
down_revision = '0004_jobs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('published_file',
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('path')
    )
    with op.batch_alter_table('published_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_published_file_generation'), ['generation'], unique=False)
    kb_state = op.create_table('kb_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    # the one row, there from the start: publishers lock it, never race to create it
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    op.bulk_insert(kb_state, [{'id': 1, 'generation': 0, 'changed_at': now}])
    op.create_table('passage_vector',
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('dim', sa.Integer(), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('model', 'content_hash')
    )


def downgrade():
    op.drop_table('passage_vector')
    op.drop_table('kb_state')
    with op.batch_alter_table('published_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_published_file_generation'))
    op.drop_table('published_file')
