"""the area of disagreement and the agencies become case facts: one place holds them

The returns' columns on ``cases`` (0008) are moved into ``case_facts`` rows, where
a person can set and correct them like any other fact, and the columns are
dropped. A fact already held (``raising_agency`` was a fact before) is kept: it
is the newer, and the one a person may have corrected. A moved value keeps the
source it most likely had (``message``: a labelled line or a form, read by
intake), says in its detail which column it came from, and is dated by the
case's last update.

Downgrade puts the columns back and fills them from the facts; the
``area_of_disagreement`` and ``responding_agency`` facts, unknown before this
revision, are removed, while ``raising_agency`` stays a fact as it was.

Revision ID: 0010
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0007'
branch_labels = None
depends_on = None

_MOVED = ('area_of_disagreement', 'raising_agency', 'responding_agency')
_NEW_FACTS = ('area_of_disagreement', 'responding_agency')
_LENGTHS = {'area_of_disagreement': 64, 'raising_agency': 200, 'responding_agency': 200}

_facts = sa.table(
    'case_facts',
    sa.column('id', sa.Integer), sa.column('case_id', sa.Integer), sa.column('name', sa.String),
    sa.column('value', sa.JSON), sa.column('source', sa.String), sa.column('estimated', sa.Boolean),
    sa.column('set_by', sa.String), sa.column('set_at', sa.DateTime), sa.column('reason', sa.Text),
    sa.column('detail', sa.JSON),
)


def _cases(with_columns: bool) -> sa.TableClause:
    columns = [sa.column('id', sa.Integer), sa.column('updated_at', sa.DateTime)]
    if with_columns:
        columns += [sa.column(name, sa.String) for name in _MOVED]
    return sa.table('cases', *columns)


def upgrade() -> None:
    connection = op.get_bind()
    cases = _cases(True)
    held = {(case_id, name) for case_id, name in connection.execute(
        sa.select(_facts.c.case_id, _facts.c.name).where(_facts.c.name.in_(_MOVED)))}
    rows = []
    for row in connection.execute(sa.select(cases)).mappings():
        for name in _MOVED:
            value = row[name]
            if value is None or not str(value).strip() or (row['id'], name) in held:
                continue
            rows.append({
                'case_id': row['id'], 'name': name, 'value': value, 'source': 'message', 'estimated': False,
                'set_by': 'resdesk-intake', 'set_at': row['updated_at'], 'reason': 'read from message',
                'detail': {'moved_from': f'cases.{name}'},
            })
    if rows:
        connection.execute(_facts.insert(), rows)
    # Dropped in place (SQLite 3.35+ drops a plain column itself): rebuilding ``cases`` would trip the
    # foreign keys the other tables hold on it.
    with op.batch_alter_table('cases', recreate='never') as batch:
        for name in _MOVED:
            batch.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table('cases', recreate='never') as batch:
        for name in _MOVED:
            batch.add_column(sa.Column(name, sa.String(length=_LENGTHS[name]), nullable=True))
    connection = op.get_bind()
    cases = _cases(True)
    for case_id, name, value in connection.execute(
        sa.select(_facts.c.case_id, _facts.c.name, _facts.c.value).where(_facts.c.name.in_(_MOVED))
    ).all():
        if isinstance(value, str):
            connection.execute(cases.update().where(cases.c.id == case_id).values({name: value[:_LENGTHS[name]]}))
    connection.execute(_facts.delete().where(_facts.c.name.in_(_NEW_FACTS)))
