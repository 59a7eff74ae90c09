"""A person records that a deadline was met: the outcome letter sent, the referral to MASH made.

Some of a stage's own deadlines (``[[stages.deadlines]]``) are kept by an agency or the
partnership by means the case file never sees, so the clock cannot tell them done:
- counted from the stage's start (``counts_from = "stage-start"``), while the stage runs:
  Sandwell's MARF completed and the case referred to MASH "on the same working day" where a
  child is at imminent risk (§4 Note), LSCP/LSAB's urgent meeting date set "within 24 hours";
- counted from the resolution (``counts_from = "resolution"``): Oldham's and Sandwell's outcome
  letter "within a further 2 working days", Sandwell's outcome and learning "within one
  calendar month".
The business unit records one done with ``record_deadline_met``: a ``deadline-met`` event on the
case, dated when it was done, which the stage clock reads (``protocols.clock.DeadlineMet``): the
deadline reads ``met``, or ``missed`` when done after its due time, instead of ``overdue`` or
``not-recorded``, and its reminders and overdue alerts stop (those still waiting in the outbox
are superseded, ``outbox.sending``). One counted from the stage's due time (Gloucestershire's
escalation to stage four) is met by entering the next stage, which the case file sees.

A record made in error is withdrawn with ``withdraw_deadline_met``: a ``deadline-met-withdrawn``
event naming the record it withdraws, after which the clock reads the deadline as if it had never
been recorded (overdue, or ``not-recorded``, once its time has passed) and it can be recorded
again. A reminder or alert superseded while the record stood is not sent again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from resdesk.cases.corrections import MERGED, required_reason
from resdesk.cases.store import Store, Tx
from resdesk.cases.models import Event
from resdesk.cases.timeline import DEADLINE_MET, DEADLINE_MET_WITHDRAWN, withdrawn_records
from resdesk.cases.views import CalendarFor, clock_for
from resdesk.errors import UsageError
from resdesk.protocols import DeadlineTiming, Registry, StageStatus, to_local

__all__ = [
    "DEADLINE_MET", "DEADLINE_MET_WITHDRAWN", "record_deadline_met", "recordable_deadlines", "withdraw_deadline_met",
]


def record_deadline_met(
    tx: Tx, registry: Registry, ref: str, deadline: str, at: datetime, *, actor: str, reason: str,
    calendar_for: CalendarFor, done: datetime | None = None,
) -> DeadlineTiming | None:
    """Record that case ``ref``'s deadline named ``deadline`` was done at ``done`` (default ``at``,
    the moment of recording; both timezone-aware; a bare date's midnight counts as that day), by
    ``actor`` for ``reason``: an event on the case and an audit entry; ``calendar_for`` gives a
    protocol's working days (the settings' closure days). Returns the deadline as the
    clock now reads it (``met``, or ``missed`` when done after its due time).

    The deadlines that can be recorded are the clock's ``recordable`` ones (the module's notes):
    counted from the start of a stage the case has been at, or from its resolution once resolved.

    ``UsageError`` for no reason, a case merged away, a name that is not one of the case's
    deadlines a person records (the message names those it has), a deadline already recorded or
    already met, ``done`` after ``at`` or on a day before the one the deadline counts from;
    ``UnknownCase`` for a reference the case file does not hold."""
    reason = required_reason(reason)
    case = tx.require_case(ref)
    if case.status == MERGED:
        raise UsageError(f"Case {case.ref} was merged into another; record the deadline on that case.")
    clock = clock_for(case, registry, at, calendar_for)
    name = (deadline or "").strip()
    stage_deadlines = [(t, d) for t in clock.recorded for d in t.deadlines]
    settled = [d for t, d in stage_deadlines if d.name == name and (d.done is not None or d.status is StageStatus.MET)]
    owed = {d.name: (t, d) for t, d in clock.recordable}
    if name not in owed and settled:
        timing = settled[-1]
        when = f" on {to_local(timing.done):%a %d %b %Y %H:%M}" if timing.done else " (its stage ended in time)"
        raise UsageError(f"The {name} deadline of case {case.ref} was already recorded done{when} "
                         f"({timing.status.value}).")
    if name not in owed:
        known = ", ".join(sorted(owed)) or "none now"
        raise UsageError(f"Case {case.ref} has no deadline '{name}' that a person records done "
                         f"(its deadlines to record: {known}). An outcome letter's deadline counts from the "
                         "resolution: it can be recorded once the case is resolved.")
    stage, timing = owed[name]
    done = done or at
    if done > at:
        raise UsageError("A deadline cannot be recorded done at a time still to come.")
    since = clock.resolved if timing.counts_from == "resolution" else stage.started
    if since is not None and to_local(done).date() < to_local(since).date():
        what = "was resolved" if timing.counts_from == "resolution" else f"entered stage {stage.stage}"
        raise UsageError(f"Case {case.ref} {what} on {to_local(since):%d %B %Y}: what counts from then "
                         "cannot have been done before that day.")
    detail = {"by": actor, "reason": reason, "deadline": name, "what": timing.what,
              "due": to_local(timing.due).isoformat(), "done": to_local(done).isoformat(),
              "status": "met" if done <= timing.due else "missed"}
    tx.add_event(case, DEADLINE_MET, done, stage=stage.stage, variant=stage.variant, detail=detail)
    tx.audit(actor, DEADLINE_MET, case.ref, detail, at=at)
    return _as_read_now(case, registry, at, calendar_for, stage.stage, name)


def recordable_deadlines(store: Store, registry: Registry, ref: str, at: datetime,
                         calendar_for: CalendarFor) -> list[dict[str, object]]:
    """The deadlines of case ``ref`` a person may record done at ``at`` (aware), as the clock reads
    them (``CaseClock.recordable``): ``stage``, ``name``, ``what`` and ``due`` (aware, local) of each,
    in stage order. Empty for a case merged away; ``UnknownCase`` for a reference the case file
    does not hold."""
    with store.transaction() as tx:
        case = tx.require_case(ref)
        if case.status == MERGED:
            return []
        clock = clock_for(case, registry, at, calendar_for)
        return [{"stage": t.stage, "name": d.name, "what": d.what, "due": d.due} for t, d in clock.recordable]


def withdraw_deadline_met(
    tx: Tx, registry: Registry, ref: str, deadline: str, at: datetime, *, actor: str, reason: str,
    calendar_for: CalendarFor,
) -> DeadlineTiming | None:
    """Withdraw the standing record that case ``ref``'s deadline named ``deadline`` was done (made
    in error), at ``at`` (aware) by ``actor`` for ``reason``: an event naming the record's id and an
    audit entry. Returns the deadline as the clock now reads it (None when it no longer applies).

    ``UsageError`` for no reason, a case merged away, or a name with no standing record (the
    message names the deadlines recorded done); ``UnknownCase`` for a reference the case file does
    not hold."""
    reason = required_reason(reason)
    case = tx.require_case(ref)
    if case.status == MERGED:
        raise UsageError(f"Case {case.ref} was merged into another; withdraw the record on that case.")
    events = tx.session.execute(
        select(Event).where(Event.case_id == case.id, Event.kind.in_((DEADLINE_MET, DEADLINE_MET_WITHDRAWN)))
        .order_by(Event.id)
    ).scalars().all()
    withdrawn = withdrawn_records(events)
    standing = [e for e in events if e.kind == DEADLINE_MET and e.id not in withdrawn]
    name = (deadline or "").strip()
    records = [e for e in standing if (e.detail or {}).get("deadline") == name]
    if not records:
        known = ", ".join(sorted({(e.detail or {}).get("deadline") for e in standing})) or "none"
        raise UsageError(f"Case {case.ref} has no record of a deadline '{name}' done to withdraw "
                         f"(recorded done: {known}).")
    record = records[-1]
    detail = {"by": actor, "reason": reason, "deadline": name, "withdraws": record.id,
              "what": (record.detail or {}).get("what"), "done": (record.detail or {}).get("done"),
              "recorded_by": (record.detail or {}).get("by")}
    tx.add_event(case, DEADLINE_MET_WITHDRAWN, at, stage=record.stage, variant=record.variant, detail=detail)
    tx.audit(actor, DEADLINE_MET_WITHDRAWN, case.ref, detail, at=at)
    return _as_read_now(case, registry, at, calendar_for, record.stage, name)


def _as_read_now(case, registry: Registry, at: datetime, calendar_for: CalendarFor, stage: int | None,
                 name: str) -> DeadlineTiming | None:
    """Deadline ``name`` of ``stage`` (its latest time at that stage) as the clock reads the case at ``at``;
    None when it no longer applies."""
    clock = clock_for(case, registry, at, calendar_for)
    return next((d for t in reversed(clock.recorded) for d in t.deadlines if t.stage == stage and d.name == name), None)
