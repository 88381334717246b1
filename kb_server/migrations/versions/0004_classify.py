"""request classes and incidents: suggested class and confidence, class corrections,
incident links, reports and notices

Revision ID: 0004_classify
Revises: 0003
Create Date: 2026-12-02 16:10:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_classify'
down_revision = '0004_analytics'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suggested_class', sa.String(length=40), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('suggestion_confidence', sa.Float(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('incident_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('flagged_line', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reports', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index(batch_op.f('ix_ticket_incident_id'), ['incident_id'], unique=False)
        batch_op.create_foreign_key('fk_ticket_incident_id', 'ticket', ['incident_id'], ['id'])
    op.create_table(
        'class_correction',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('suggested_class', sa.String(length=40), nullable=False),
        sa.Column('corrected_class', sa.String(length=40), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['user.id']),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index(op.f('ix_class_correction_ticket_id'), 'class_correction', ['ticket_id'])
    op.create_index(op.f('ix_class_correction_created_at'), 'class_correction', ['created_at'])
    op.create_table(
        'incident_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('text', sa.String(length=500), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('session_id', sa.String(length=64), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('incident_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['ticket.id']),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index(op.f('ix_incident_report_incident_id'), 'incident_report', ['incident_id'])
    op.create_index(op.f('ix_incident_report_created_at'), 'incident_report', ['created_at'])
    op.create_table(
        'incident_notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('texts', sa.JSON(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['author_id'], ['user.id']),
        sa.ForeignKeyConstraint(['incident_id'], ['ticket.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index(op.f('ix_incident_notice_incident_id'), 'incident_notice', ['incident_id'])
    op.create_index(op.f('ix_incident_notice_active'), 'incident_notice', ['active'])


def downgrade():
    for table, columns in (('incident_notice', ('active', 'incident_id')),
                           ('incident_report', ('created_at', 'incident_id')),
                           ('class_correction', ('created_at', 'ticket_id'))):
        for column in columns:
            op.drop_index(op.f(f'ix_{table}_{column}'), table_name=table)
        op.drop_table(table)
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_constraint('fk_ticket_incident_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_ticket_incident_id'))
        for column in ('reports', 'flagged_line', 'incident_id', 'suggestion_confidence',
                       'suggested_class'):
            batch_op.drop_column(column)
