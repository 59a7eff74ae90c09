"""sign-in limits shared by every workspace process: rate-limit counts kept in the case file

Failed sign-ins were counted in each ``resdesk serve`` process's memory; the counts now live in
``rate_limit_counts`` (``cases.ratelimits``), one row per limit and key. Downgrade drops the table
(the counts start again from nothing).

Revision ID: 0015
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rate_limit_counts',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counts'))
    )
    with op.batch_alter_table('rate_limit_counts', recreate='never') as batch:
        batch.create_index(batch.f('ix_rate_limit_counts_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_table('rate_limit_counts')
