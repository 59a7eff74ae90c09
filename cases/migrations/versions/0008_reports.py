"""what the returns count: area of disagreement and the agencies on each side

Revision ID: 0008
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('area_of_disagreement', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('raising_agency', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('responding_agency', sa.String(length=200), nullable=True))
        batch.create_index(batch.f('ix_cases_opened_at'), ['opened_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_index(batch.f('ix_cases_opened_at'))
        batch.drop_column('responding_agency')
        batch.drop_column('raising_agency')
        batch.drop_column('area_of_disagreement')
