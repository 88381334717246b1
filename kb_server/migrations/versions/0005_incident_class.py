"""incidents per request class: the class of each incident report

Revision ID: 0005_incident_class
Revises: 0004_jobs
Create Date: 2026-12-03 07:30:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_incident_class'
down_revision = '0005_shared_kb'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('incident_report') as batch:
        batch.add_column(sa.Column('request_class', sa.String(length=40), nullable=False,
                                   server_default='outage'))


def downgrade():
    with op.batch_alter_table('incident_report') as batch:
        batch.drop_column('request_class')
