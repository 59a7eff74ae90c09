"""Rows that are never changed once written (events, audit entries), held for a unit of work and
written together, one executemany per table, at its next flush point.

A unit of work that records a batch of messages appends thousands of such rows; one statement
each cost more than the rest of the recording. ``hold(session, statement, row)`` keeps the row in
the session instead, and ``write_held(session)`` writes everything held, in the order it was held.
Every session on the case file (``cases.store``) writes what it holds

- before any statement run through the session (a query, a lazy load, ``session.get`` going to the
  database: the ``do_orm_execute`` hook), so whatever the unit of work reads finds every row it
  wrote, exactly as if each had been written at once;
- before a savepoint begins and before one is released (so a savepoint rolled back undoes only
  what was held inside it), and before the transaction commits;

and forgets what it holds when its transaction, or the savepoint they were held in, rolls back.
A statement held with ``unmatched`` (an UPDATE that must change one row per parameter set, such as
the ledger's completion of a claim still held) is checked when written: if the executemany's summed
rowcount falls short, ``unmatched`` names the fault, which is raised at that flush point and again
at every later one (commit included) until the transaction, or the savepoint it was held in, rolls
back; so a unit of work whose check failed can never commit, even if a caller swallowed the error.
A statement run on ``session.connection()`` directly does not pass the hook: code that reads held
tables that way calls ``write_held`` first (as ``cases.audit`` does before it reads the chain's tail).

``kept_for_transaction`` keeps what a unit of work remembers until its innermost transaction ends
(the references it has counted, the cases it has found or marked for planning).
"""

from __future__ import annotations

from typing import Any

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.dml import UpdateBase

__all__ = ["Unmatched", "hold", "innermost_transaction", "kept_for_transaction", "listen", "write_held"]

T = TypeVar("T")

_HELD = "resdesk.held-rows"
_REFUSED = "resdesk.held-rows-refused"

Unmatched = Callable[[Connection, list[dict[str, Any]]], Exception]
"""Names the fault when a checked statement's executemany changed fewer rows than it was given
parameter sets: called with the connection and those parameter sets, returns the exception to raise."""


class _Held:
    """What one session holds: the connection to write on, rows by statement, and the checked
    statements' ``Unmatched``."""

    __slots__ = ("connection", "rows", "checks")

    def __init__(self, connection: Connection):
        self.connection = connection
        self.rows: dict[UpdateBase, list[dict[str, Any]]] = {}
        self.checks: dict[UpdateBase, Unmatched] = {}


def hold(session: Session, statement: UpdateBase, row: dict[str, Any], *, unmatched: Unmatched | None = None) -> None:
    """Hold ``row`` for ``statement`` (an INSERT or UPDATE built once) until the session's next flush point.

    With ``unmatched``, every row must change exactly one row of the table when written (the
    dialect must report a sane multi-row rowcount, as sqlite3 and psycopg do); otherwise the
    exception it returns is raised and the unit of work can only roll back (see the module's notes)."""
    held = session.info.get(_HELD)
    if held is None:
        held = session.info[_HELD] = _Held(session.connection())
    held.rows.setdefault(statement, []).append(row)
    if unmatched is not None:
        held.checks[statement] = unmatched


def write_held(session: Session) -> None:
    """Write every row the session holds: one executemany per statement, in the order held; a checked
    statement that changed fewer rows than it was given raises its ``Unmatched`` fault (any exception)."""
    _write(session)


def _write(session: Session, held_in: SessionTransaction | None = None) -> None:
    """``write_held``; ``held_in`` is the transaction the rows were held in (the innermost unless
    given), which a failed check refuses."""
    refused = session.info.get(_REFUSED)
    if refused is not None:
        raise refused[1]
    held = session.info.pop(_HELD, None)
    if held is None:
        return
    for statement, rows in held.rows.items():
        result = held.connection.execute(statement, rows)
        check = held.checks.get(statement)
        if check is not None and result.rowcount != len(rows):
            fault = check(held.connection, rows)
            session.info[_REFUSED] = (held_in or innermost_transaction(session), fault)
            raise fault


def innermost_transaction(session: Session):
    """The session's innermost transaction (a savepoint's, if one is open): what a cache kept for
    the rest of a transaction is tied to, since a savepoint that ends may undo what it wrote."""
    return session.get_nested_transaction() or session.get_transaction()


def kept_for_transaction(session: Session, name: str, new: Callable[[], T]) -> T:
    """What the session keeps under ``name`` for its innermost transaction (made by ``new`` when that
    transaction has none yet): a savepoint that ends may have undone what it was about, so the next
    transaction starts afresh."""
    held, kept = session.info.get(name, (None, None))
    transaction = innermost_transaction(session)
    if held is not transaction:
        kept = new()
        session.info[name] = (transaction, kept)
    return kept


def _forget(session: Session, previous_transaction: SessionTransaction) -> None:
    session.info.pop(_HELD, None)
    refused = session.info.get(_REFUSED)
    if refused is not None and refused[0] is previous_transaction:
        del session.info[_REFUSED]  # the savepoint whose check failed is undone: the rest may go on


def _before_statement(orm_execute_state) -> None:
    write_held(orm_execute_state.session)


def _before_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:  # written on the held connection, so before the SAVEPOINT itself
        _write(session, transaction.parent)  # held in the savepoint's parent


def listen(session_class: type[Session]) -> None:
    """Have every session of ``session_class`` write what it holds at its flush points (see the module's notes)."""
    event.listen(session_class, "do_orm_execute", _before_statement)
    event.listen(session_class, "after_transaction_create", _before_savepoint)
    event.listen(session_class, "before_commit", write_held)
    event.listen(session_class, "after_soft_rollback", _forget)
