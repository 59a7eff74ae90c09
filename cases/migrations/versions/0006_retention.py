"""retention: legal holds, disposal records, audit payloads linked by digest

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-29 19:20:00

The audit chain used to hash each payload itself; from here on it hashes the
payload's SHA-256, so that a disposed case's payloads can be erased while every
link still verifies. The existing chain is verified under the old rule first
(the upgrade refuses a broken chain, naming the entry) and then relinked under
the new one, in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timezone

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0003'
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def _compact(document) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _document(row, **payload) -> dict:
    at = row.at.replace(tzinfo=timezone.utc)
    return {"seq": row.seq, "at": at.isoformat(timespec="microseconds"), "actor": row.actor,
            "action": row.action, "case_ref": row.case_ref, **payload}


def _relink(connection, audit) -> None:
    rows = connection.execute(sa.select(audit).order_by(audit.c.seq)).all()
    old_prev = new_prev = GENESIS
    for row in rows:
        payload = row.payload or {}
        if row.prev_hash != old_prev or row.hash != _sha(old_prev + _compact(_document(row, payload=payload))):
            raise RuntimeError(
                f"The audit chain is broken at entry {row.seq}; the case file is left unmigrated."
            )
        old_prev = row.hash
        digest = _sha(_compact(payload))
        new_hash = _sha(new_prev + _compact(_document(row, payload_sha256=digest)))
        connection.execute(
            audit.update().where(audit.c.seq == row.seq)
            .values(payload_sha256=digest, prev_hash=new_prev, hash=new_hash)
        )
        new_prev = new_hash


def upgrade() -> None:
    op.create_table('legal_holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_ref', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('placed_by', sa.String(length=255), nullable=False),
    sa.Column('placed_at', sa.DateTime(), nullable=False),
    sa.Column('released_at', sa.DateTime(), nullable=True),
    sa.Column('release_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_holds'))
    )
    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_holds_case_ref'), ['case_ref'], unique=False)

    op.create_table('disposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_ref', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('rule', sa.Text(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposals')),
    sa.UniqueConstraint('case_ref', 'kind', name=op.f('uq_disposals_case_ref_kind'))
    )
    with op.batch_alter_table('disposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disposals_case_ref'), ['case_ref'], unique=False)

    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('disposed_at', sa.DateTime(), nullable=True))

    audit = sa.table(
        'audit', sa.column('seq', sa.Integer), sa.column('at', sa.DateTime), sa.column('actor', sa.String),
        sa.column('action', sa.String), sa.column('case_ref', sa.String), sa.column('payload', sa.JSON),
        sa.column('payload_sha256', sa.String), sa.column('prev_hash', sa.String), sa.column('hash', sa.String),
    )
    _relink(op.get_bind(), audit)

    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.alter_column('payload_sha256', existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    raise NotImplementedError("The case file is not migrated down: restore a backup taken before the upgrade.")
