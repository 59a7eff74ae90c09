"""work in proportion: sent-to index for the rate limit, indexed outbox due times, messages by completion

Revision ID: 0007
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox_sent_to',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outbound_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['outbound_id'], ['outbox.id'], name=op.f('fk_outbox_sent_to_outbound_id_outbox')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_sent_to'))
    )
    with op.batch_alter_table('outbox_sent_to', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_sent_to_address_sent_at', ['address', 'sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_sent_to_outbound_id'), ['outbound_id'], unique=False)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_state_next_attempt_at', ['state', 'next_attempt_at'], unique=False)
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_completed_at'), ['completed_at'], unique=False)

    # Messages already sent count towards the limit from the start.
    outbox = sa.table('outbox', sa.column('id', sa.Integer), sa.column('recipients', sa.JSON),
                      sa.column('state', sa.String), sa.column('sent_at', sa.DateTime))
    sent_to = sa.table('outbox_sent_to', sa.column('outbound_id', sa.Integer), sa.column('address', sa.String),
                       sa.column('sent_at', sa.DateTime))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(outbox.c.id, outbox.c.recipients, outbox.c.sent_at)
        .where(outbox.c.state == 'sent', outbox.c.sent_at.is_not(None))
    )
    values = [{"outbound_id": id_, "address": address, "sent_at": sent_at}
              for id_, recipients, sent_at in rows for address in sorted({r.lower() for r in recipients or []})]
    if values:
        connection.execute(sent_to.insert(), values)


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_completed_at'))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_state_next_attempt_at')
    with op.batch_alter_table('outbox_sent_to', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_sent_to_outbound_id'))
        batch_op.drop_index('ix_outbox_sent_to_address_sent_at')
    op.drop_table('outbox_sent_to')
