"""authority over a case: each message's sender verification, the case file's check-code key

Revision ID: 0009
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender_verification', sa.String(length=16), nullable=True))
    op.create_table('case_file_keys',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_case_file_keys'))
    )


def downgrade() -> None:
    op.drop_table('case_file_keys')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('sender_verification')
