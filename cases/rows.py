"""New rows written at once, around the unit of work, and put in the session as if read back.

The ORM's unit of work writes a new object at its next flush, sorting out its dependencies, its key
and its collections there, which costs several times the INSERT itself; intake adds a case, its
parties, facts and documents for every message of a batch. ``insert_row(session, model, case,
collection, values)`` writes one row by a prepared INSERT at once instead, so it has its ``id``, and
puts it in the session and in its case's list as loading would (``as_loaded``): with no change
history, so what changes on it later is an UPDATE at the next flush, and nothing of it is left for
that flush to sort out. Where that would lose or hide a change, the row is an ordinary pending object
instead (see ``insert_row``).
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from sqlalchemy import CursorResult, insert
from sqlalchemy.orm import Session, configure_mappers, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from resdesk.cases.models import Case

__all__ = ["as_loaded", "insert_row"]

T = TypeVar("T")


def as_loaded(session: Session, model: type[T], written: CursorResult) -> T:
    """The row one prepared INSERT of ``model`` (``written``, its result) just wrote, put in ``session``
    as if read back: filled in as loading fills it, with no change history."""
    row = model._sa_class_manager.new_instance()
    row.__dict__.update(_blank(model) | written.last_inserted_params() | {"id": written.inserted_primary_key[0]})
    make_transient_to_detached(row)
    session.add(row)
    return row


def insert_row(session: Session, model: type[T], case: Case | None, collection: str, values: dict[str, Any]) -> T:
    """A new row of ``model`` (``Party``, ``CaseFact``, ``Document``) on ``case``, written at once by
    one prepared INSERT instead of at the session's next flush, and put in ``case``'s ``collection``
    (``parties``, ``facts``, ``documents``) as if read back with it.

    The row is an ordinary pending object instead (written at the next flush, as the unit of work
    writes any) where that list holds changes not yet written (so nothing pending is lost), where the
    case is not yet written itself, and inside a savepoint (whose rollback must take the row out of the
    list again). Raises what the INSERT raises (``sqlalchemy.exc.IntegrityError``, …)."""
    if session.in_nested_transaction() or case is not None and (
        case.id is None or collection in case.__dict__ and _changed(case, collection)
    ):
        row = model(case=case, **values)
        session.add(row)
        return row
    written = session.connection().execute(_inserts(model), {**values, "case_id": case.id if case else None})
    row = as_loaded(session, model, written)
    if case is not None:
        set_committed_value(row, "case", case)
        loaded = case.__dict__.get(collection)  # not loaded yet: loading it finds the row
        if loaded is not None:
            set_committed_value(case, collection, [*loaded, row])
    return row


def _changed(case: Case, collection: str) -> bool:
    """Does ``case``'s loaded ``collection`` hold changes not yet written? (The unit of work keeps a
    changed attribute's value as loaded in the state's ``committed_state`` until it is written.) A
    guard no test reaches: in every path tried (a fact cleared, then another or the same set in one
    transaction), such a change had been written before the next row was added."""
    return collection in instance_state(case).committed_state


@cache
def _inserts(model: type):
    """The prepared INSERT of ``model``'s table, built once."""
    return insert(model.__table__)


@cache
def _blank(model: type) -> dict[str, None]:
    """Every column of ``model``'s table, unset: what a row read back holds before its values; the
    mappers are configured once, the first time."""
    configure_mappers()
    return {column.key: None for column in model.__table__.c}
