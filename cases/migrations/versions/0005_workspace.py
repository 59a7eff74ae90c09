"""the workspace: users, alert acknowledgements, trusted senders

Revision ID: 0005
Revises: 0008
Create Date: 2026-11-29 19:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('password_changed_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('name', name=op.f('uq_users_name'))
    )
    op.create_table('alert_acknowledgements',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('by', sa.String(length=255), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_alert_acknowledgements'))
    )
    op.create_table('trusted_senders',
    sa.Column('value', sa.String(length=320), nullable=False),
    sa.Column('by', sa.String(length=255), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('value', name=op.f('pk_trusted_senders'))
    )


def downgrade() -> None:
    op.drop_table('trusted_senders')
    op.drop_table('alert_acknowledgements')
    op.drop_table('users')
