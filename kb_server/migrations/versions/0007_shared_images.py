"""images of the articles folder shared through the database, like the article files

Revision ID: 0007_shared_images
Revises: 0006_follow_up
Create Date: 2026-12-03 22:05:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_shared_images'
down_revision = '0006_follow_up'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('published_file') as batch_op:
        batch_op.add_column(sa.Column('data', sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table('published_file') as batch_op:
        batch_op.drop_column('data')
