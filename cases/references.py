"""Case references: ``PREFIX-YEAR-NNNN``, counted per prefix and year in the case file.

The counter row of a prefix and year is counted up by one upsert, the first time a transaction
takes a number; that locks the row until commit (PostgreSQL; SQLite's write lock is the whole
transaction's), so the transaction's later numbers are its own: they are counted in memory and the
counter's last value is written with the transaction's held rows (``cases.pending``), not by a
statement each. A savepoint starts counting afresh from the database.
"""

from __future__ import annotations

import functools

from sqlalchemy import bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from resdesk.cases import pending
from resdesk.cases.models import ReferenceCounter

__all__ = ["next_reference"]

_COUNTERS = ReferenceCounter.__table__
_TAKEN = "resdesk.references-taken"
_COUNT_TO = update(_COUNTERS).where(_COUNTERS.c.key == bindparam("counter_key")).values(last=bindparam("set_last"))


@functools.cache
def _counter_upsert(dialect: str):
    """Count a reference key up by one (from 1 when new) and return its number: one statement, built once."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(_COUNTERS)
        .values(key=bindparam("key"), last=1)
        .on_conflict_do_update(index_elements=["key"], set_={"last": _COUNTERS.c.last + 1})
        .returning(_COUNTERS.c.last)
    )


def next_reference(session: Session, prefix: str, year: int) -> str:
    """The next case reference for ``prefix`` and ``year`` inside the session's transaction, e.g.
    ``OLD-2026-0007`` (four digits at least)."""
    key = f"{prefix}-{year}"
    taken = pending.kept_for_transaction(session, _TAKEN, dict)
    if key in taken:
        number = taken[key] + 1
        pending.hold(session, _COUNT_TO, {"counter_key": key, "set_last": number})
    else:
        connection = session.connection()  # the counter row is all it touches: nothing pending to write first
        number = connection.execute(_counter_upsert(connection.dialect.name), {"key": key}).scalar_one()
    taken[key] = number
    return f"{key}-{number:04d}"
