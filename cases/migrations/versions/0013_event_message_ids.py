"""find a reply's case by index: events' Message-IDs are indexed

Correlation asks which case holds an event with a reply's In-Reply-To or References; without an
index each such question read every event in the case file. Downgrade drops the index.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('events', recreate='never') as batch:
        batch.create_index(batch.f('ix_events_message_id'), ['message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('events', recreate='never') as batch:
        batch.drop_index(batch.f('ix_events_message_id'))
