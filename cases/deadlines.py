"""A person records that a deadline counted from the resolution was met: the outcome letter sent.

A deadline that counts from the resolution (``[[stages.deadlines]]`` with ``counts_from =
"resolution"``: Oldham's and Sandwell's outcome letter "within a further 2 working days",
Sandwell's outcome and learning "within one calendar month") is kept by an agency or the
partnership, by mail the case file never sees. The business unit records it done with
``record_deadline_met``: a ``deadline-met`` event on the case, dated when it was done, which the
stage clock reads (``protocols.clock.DeadlineMet``): the deadline reads ``met``, or ``missed``
when done after its due time, instead of ``not-recorded``, and its reminders and overdue alerts
stop (those still waiting in the outbox are superseded, ``outbox.sending``).
"""

from __future__ import annotations

from datetime import datetime

from resdesk.cases.corrections import MERGED, required_reason
from resdesk.cases.store import Tx
from resdesk.cases.timeline import DEADLINE_MET
from resdesk.cases.views import CalendarFor, clock_for
from resdesk.errors import UsageError
from resdesk.protocols import DeadlineTiming, Registry, to_local

__all__ = ["DEADLINE_MET", "record_deadline_met"]


def record_deadline_met(
    tx: Tx, registry: Registry, ref: str, deadline: str, at: datetime, *, actor: str, reason: str,
    calendar_for: CalendarFor, done: datetime | None = None,
) -> DeadlineTiming:
    """Record that case ``ref``'s deadline named ``deadline`` was done at ``done`` (default ``at``,
    the moment of recording; both timezone-aware; a bare date's midnight counts as that day), by
    ``actor`` for ``reason``: an event on the case and an audit entry; ``calendar_for`` gives a
    protocol's working days (the settings' closure days). Returns the deadline as the
    clock now reads it (``met``, or ``missed`` when done after its due time).

    ``UsageError`` for no reason, a case not resolved (or merged away), a name that is not one of
    the case's deadlines counted from its resolution (the message names those it has), a deadline
    already recorded, ``done`` after ``at`` or on a day before the resolution's; ``UnknownCase``
    for a reference the case file does not hold."""
    reason = required_reason(reason)
    case = tx.require_case(ref)
    if case.status == MERGED:
        raise UsageError(f"Case {case.ref} was merged into another; record the deadline on that case.")
    clock = clock_for(case, registry, at, calendar_for)
    if clock.resolved is None:
        raise UsageError(f"Case {case.ref} is not resolved: only a resolved case's deadlines counted from its "
                         "resolution (an outcome letter) can be recorded met.")
    owed = {d.name: d for d in clock.resolution_deadlines}
    name = (deadline or "").strip()
    if name not in owed:
        known = ", ".join(sorted(owed)) or "none"
        raise UsageError(f"Case {case.ref} has no deadline '{name}' counted from its resolution "
                         f"(its deadlines counted from the resolution: {known}).")
    timing = owed[name]
    if timing.done is not None:
        raise UsageError(f"The {name} deadline of case {case.ref} was already recorded done on "
                         f"{to_local(timing.done):%a %d %b %Y %H:%M} ({timing.status.value}).")
    done = done or at
    if done > at:
        raise UsageError("A deadline cannot be recorded done at a time still to come.")
    if to_local(done).date() < to_local(clock.resolved).date():
        raise UsageError(f"Case {case.ref} was resolved on {to_local(clock.resolved):%d %B %Y}: what counts from "
                         "its resolution cannot have been done before that day.")
    detail = {"by": actor, "reason": reason, "deadline": name, "what": timing.what,
              "due": to_local(timing.due).isoformat(), "done": to_local(done).isoformat(),
              "status": "met" if done <= timing.due else "missed"}
    tx.add_event(case, DEADLINE_MET, done, stage=case.stage, variant=case.stage_variant, detail=detail)
    tx.audit(actor, DEADLINE_MET, case.ref, detail, at=at)
    after = clock_for(case, registry, at, calendar_for)
    return {d.name: d for d in after.resolution_deadlines}[name]
