"""tickets: status change time, SLA state, SLA actions taken, CSAT rating

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 13:30:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_changed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('sla_state', sa.String(length=16), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('sla_next_due', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('sla_fired', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column('csat_rating', sa.String(length=8), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('csat_comment', sa.Text(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('csat_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ticket_sla_state'), ['sla_state'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_sla_next_due'), ['sla_next_due'], unique=False)


def downgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_sla_next_due'))
        batch_op.drop_index(batch_op.f('ix_ticket_sla_state'))
        for column in ('csat_at', 'csat_comment', 'csat_rating', 'sla_fired', 'sla_next_due',
                       'sla_state', 'status_changed_at'):
            batch_op.drop_column(column)
