"""find the earlier copy of a message by one index seek: the ledger's SHA-256 indexed with its account

Claiming a fetch batch asks which of its messages the account's ledger already finished, by
SHA-256 (``intake.ledger``). Given fifty digests, SQLite chose the account prefix of the ledger's
unique key over the SHA-256 index and read every ledger row of the account, once a batch: a
backlog's drain grew with the square of its length. An index on (account, sha256) answers the
question by seeks. It replaces the index on sha256 alone, which nothing else reads. Downgrade
puts that index back. Building the index reads the whole ledger once; on PostgreSQL, writes to the
ledger wait while it is built (run ``resdesk migrate`` with the watcher stopped, as for every
upgrade).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', recreate='never') as batch:
        batch.create_index('ix_messages_account_sha256', ['account', 'sha256'], unique=False)
        batch.drop_index('ix_messages_sha256')


def downgrade() -> None:
    with op.batch_alter_table('messages', recreate='never') as batch:
        batch.create_index('ix_messages_sha256', ['sha256'], unique=False)
        batch.drop_index('ix_messages_account_sha256')
