"""plan what changed: each case's next due moment, indexed, so a tick reads only the cases owed something

Every case starts due at once (the epoch): the first tick after the upgrade plans each once and
stores when it is next due. Downgrade drops the column and its index.

Revision ID: 0012
Revises: 0009
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0009'
branch_labels = None
depends_on = None

# ``cases.models.PLAN_AT_ONCE``, stored as naive UTC like every time in the case file.
_AT_ONCE = datetime(1970, 1, 1)


def upgrade() -> None:
    with op.batch_alter_table('cases', recreate='never') as batch:
        batch.add_column(sa.Column('next_due', sa.DateTime(), nullable=True))
        batch.create_index(batch.f('ix_cases_next_due'), ['next_due'], unique=False)
    cases = sa.table('cases', sa.column('next_due', sa.DateTime))
    op.get_bind().execute(cases.update().values(next_due=_AT_ONCE))


def downgrade() -> None:
    with op.batch_alter_table('cases', recreate='never') as batch:
        batch.drop_index(batch.f('ix_cases_next_due'))
        batch.drop_column('next_due')
