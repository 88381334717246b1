"""a contact's follow-up recorded on its ticket until it is done

Revision ID: 0006_follow_up
Revises: 0005_authoring2
Create Date: 2026-12-03 13:00:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_follow_up'
down_revision = '0005_authoring2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket') as batch_op:
        batch_op.add_column(sa.Column('follow_up_due', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('follow_up_text', sa.Text(), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_ticket_follow_up_due'), ['follow_up_due'], unique=False)


def downgrade():
    with op.batch_alter_table('ticket') as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_follow_up_due'))
        batch_op.drop_column('follow_up_text')
        batch_op.drop_column('follow_up_due')
