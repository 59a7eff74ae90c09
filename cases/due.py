"""A case changed is planned again at the next tick: its ``next_due`` goes back to ``PLAN_AT_ONCE``.

The tick plans only the cases whose ``next_due`` has come (``outbox.due`` computes it when a
case is planned). Whatever changes what a case may be owed — its own columns (status,
stage), a party added, a fact set or cleared — passes through a flush of the unit of work, so
one ``before_flush`` hook on every session marks the case, whichever command, watcher or web
route made the change. An event is written around the unit of work (``Tx.add_event``), which
marks its case itself, in the same transaction. Writing ``next_due`` alone (the planner's
own update) marks nothing. Changing a case also bumps its ``updated_at``, which the planner
checks before writing a ``next_due`` computed from what it read (a change made meanwhile wins).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from resdesk.cases.models import PLAN_AT_ONCE, Case, CaseFact, Event, Party

__all__ = ["mark_changed_cases"]

# What ``outbox.plan`` reads of a case besides its own columns.
_PARTS = (Event, Party, CaseFact)
_NOT_A_CHANGE = frozenset({"next_due", "updated_at"})


def mark_changed_cases(session: Session, flush_context: Any = None, instances: Any = None) -> None:
    """``before_flush`` hook: set ``next_due`` to ``PLAN_AT_ONCE`` on every case changed in this flush."""
    with session.no_autoflush:
        for obj in (*session.new, *session.dirty, *session.deleted):
            if isinstance(obj, Case):
                if obj not in session.new and _changed(obj):
                    obj.next_due = PLAN_AT_ONCE
            elif isinstance(obj, _PARTS):
                case = obj.case if obj.case is not None else (
                    session.get(Case, obj.case_id) if obj.case_id is not None else None)
                if case is not None and case not in session.deleted:
                    case.next_due = PLAN_AT_ONCE


def _changed(case: Case) -> bool:
    state = inspect(case)
    return any(attr.key not in _NOT_A_CHANGE and attr.history.has_changes()
               for attr in state.attrs if attr.key in state.mapper.column_attrs)
