"""case facts: a typed, sourced value per fact and case; the condition flags become facts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 19:30:00
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_FLAGS = {
    "child_protection_plan_or_looked_after": "child-protection-plan-or-looked-after",
    "threshold_dispute": "threshold-dispute",
    "childrens_trust_involved": "childrens-trust-involved",
}


def upgrade() -> None:
    facts = op.create_table('case_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('estimated', sa.Boolean(), nullable=False),
    sa.Column('set_by', sa.String(length=255), nullable=False),
    sa.Column('set_at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_facts_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_facts')),
    sa.UniqueConstraint('case_id', 'name', name=op.f('uq_case_facts_case_id_name'))
    )
    with op.batch_alter_table('case_facts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_facts_case_id'), ['case_id'], unique=False)

    # Flags set on existing cases carry over as facts read from their forms.
    bind = op.get_bind()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = bind.execute(sa.text(
        "SELECT id, child_protection_plan_or_looked_after, threshold_dispute, childrens_trust_involved FROM cases"
    )).all()
    carried = [
        {"case_id": row[0], "name": name, "value": True, "source": "form", "estimated": False,
         "set_by": "resdesk", "set_at": now, "reason": "carried over from the case's flags", "detail": {}}
        for row in rows
        for index, name in enumerate(_FLAGS.values(), start=1)
        if row[index]
    ]
    if carried:
        op.bulk_insert(facts, carried)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for column in _FLAGS:
            batch_op.drop_column(column)
        batch_op.alter_column('case_start', new_column_name='opened_at')


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('opened_at', new_column_name='case_start')
        for column in _FLAGS:
            batch_op.add_column(sa.Column(column, sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('case_facts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_facts_case_id'))
    op.drop_table('case_facts')
