"""Reminders and overdue alerts for the stage that is running (pure).

Each goes to the business unit and to the parties of the running stage (the
agencies on the case, from the From, To and Cc of its mail and from its forms),
one message each, under keys that name the deadline:

- ``reminder:<case>:<stage>:<due>`` (``...:party:<address>`` for a party): for a
  deadline in working days, on the working day it falls due (or the last one
  before), in working hours; for a deadline in hours, from the start of the last
  working hours before it (09:00 on the last working day that starts before the
  due time, or at once if the stage began after that), whatever the hour;
- ``overdue:<case>:<stage>:<due>``: once the due time has passed — a deadline in
  hours at once, whatever the hour; one in working days in the next working hours;
- ``overdue:<case>:<stage>:cumulative:<due>`` once the cumulative target has passed;
- ``reminder:<case>:<stage>:<deadline>:<due>``: before one of the running stage's own deadlines
  (below), while it can still be met, by the same rule as the stage's own due time;
- ``overdue:<case>:<stage>:<deadline>:<due>``: once one of the running stage's own deadlines
  (LSCP/LSAB's meeting date set within 24 hours, Gloucestershire's escalation to stage 4,
  Sandwell's imminent-risk referral) has passed with nothing recorded — in hours at once,
  whatever the hour; otherwise in the next working hours;
- ``review:<case>:<stage>:<n>``: a stage with no fixed timescale is reviewed every
  ``partnership.review_every_working_days`` working days from its start (a local
  setting, said so in the letter), the n-th time in working hours;
- ``reminder:<case>:<stage>:<deadline>:<due>`` and ``overdue:<case>:<stage>:<deadline>:<due>``
  for a *resolved* case: its deadlines counted from the resolution (``counts_from =
  "resolution"``: Oldham's and Sandwell's outcome letter within a further 2 working days,
  Sandwell's outcome and learning within one calendar month), by the same rule, ``<stage>``
  the stage resolved at, until a person records the deadline done (``cases.record_deadline_met``);
  the alert goes once its time has passed with nothing recorded (it reads ``not-recorded``).

Who gets a resolved case's reminders: the same people as the running stage's, the business unit
and every agency party on the case. The seeds name who must act — the receiving agency writes to
the complainant agency (Sandwell Appendix 2), the responsible practitioner to the complainant
practitioner (Oldham §3), the SCSP disseminates the outcome and learning to all parties (Sandwell
Appendix 1, stage 4) — but the case file cannot tell which party is the receiving agency (its
agencies come from mail and forms, ``responding_agency`` is free text), so no party is left out:
the one who must write is reminded, the one written to learns it is owed, and the business unit,
who records it done, is told first.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from resdesk.protocols import CaseClock, DeadlineTiming, Protocol, StageStatus, StageTiming, WorkingCalendar, to_local
from resdesk.protocols.timeparse import LOCAL
from resdesk.render.snapshot import CaseSnapshot, addr_spec
from resdesk.render.views import Party, ReminderView

from .planned import (
    RESOLVED,
    WORKING_HOURS,
    Planned,
    Recipients,
    clock_at,
    conversation,
    due_key,
    in_working_hours,
    last_working_day_by,
    protocol_name,
    slug,
    stage_label,
)


_STILL_OPEN = (StageStatus.ON_TIME, StageStatus.DUE_TODAY)


def reminder_from(due: datetime, started: datetime | None, hourly: bool, calendar: WorkingCalendar) -> datetime:
    """When the reminder of a deadline due at ``due`` is owed (aware datetimes; the module doc's
    rule). In hours: the start (09:00 local) of the last working hours that open before ``due``, or
    ``started`` if that is later, whatever the hour. In working days or a calendar month: 09:00 on
    the last working day by ``due``, held to working hours by the caller."""
    due = to_local(due)
    day = last_working_day_by(due.date(), calendar)
    opening = datetime.combine(day, WORKING_HOURS[0], tzinfo=LOCAL)
    if not hourly:
        return opening
    if opening >= due:
        day = last_working_day_by(day - timedelta(days=1), calendar)
        opening = datetime.combine(day, WORKING_HOURS[0], tzinfo=LOCAL)
    return opening if started is None else max(opening, to_local(started))


def deadline_reminder_at(
    own: DeadlineTiming, hourly: bool, started: datetime | None, calendar: WorkingCalendar
) -> datetime | None:
    """When the reminder of one of a stage's own deadlines is owed, by the rule of the stage's
    deadline (``reminder_from``, ``started`` being the stage's start): None once nothing can still
    be done about it (met, missed, overdue or not recorded)."""
    if own.status not in _STILL_OPEN:
        return None
    return reminder_from(own.due, started, hourly, calendar)


def review_count(timing: StageTiming, now: datetime, calendar: WorkingCalendar, every: int) -> int:
    """How many review periods of ``every`` working days have passed since the stage started."""
    if every <= 0 or timing.started is None:
        return 0
    return max(0, calendar.working_days_between(to_local(timing.started).date(), to_local(now).date()) // every)


def passed_unrecorded(own: DeadlineTiming) -> bool:
    """A deadline past its time with nothing recorded that it was done: ``overdue`` while its stage
    runs; one counted from the resolution reads ``not-recorded`` until a person records it done."""
    return own.status is StageStatus.OVERDUE or (
        own.counts_from == "resolution" and own.status is StageStatus.NOT_RECORDED)


def deadline_started(own: DeadlineTiming, timing: StageTiming, clock: CaseClock) -> datetime | None:
    """What a deadline's reminder counts ``started`` from (``reminder_from``): the resolution for one
    counted from it, else the stage's start."""
    return clock.resolved if own.counts_from == "resolution" else timing.started


def reminders(
    snapshot: CaseSnapshot, protocol: Protocol, calendar: WorkingCalendar, now: datetime, recipients: Recipients
) -> list[Planned]:
    """Every reminder, review reminder and overdue alert the case is owed at ``now``: the running
    stage's, or a resolved case's for its deadlines counted from the resolution."""
    clock = clock_at(protocol, snapshot, now, calendar)
    resolved_stage = clock.resolved_stage
    current = clock.current if snapshot.status != RESOLVED else None
    timing = resolved_stage if resolved_stage is not None else current
    if timing is None:
        return []
    working = in_working_hours(now, calendar)
    bu = recipients.for_contact("business_unit", "Business Unit")[0]
    people = ([(bu, "Business Unit")] if bu else []) + recipients.parties(snapshot)
    stage = stage_label(timing.stage, timing.variant)
    in_reply_to, references = conversation(snapshot)
    found: list[Planned] = []

    def owe(kind: str, key: str, due: datetime | None, basis: str, words: str, local: bool = False,
            deadline: str = "") -> None:
        for index, (address, name) in enumerate(people):
            view = ReminderView(
                kind=kind, case_ref=snapshot.ref, protocol_name=protocol_name(protocol), sender_agency=protocol.name,
                recipient=Party(name=name, email=addr_spec(address)), issued_at=now, as_of=now,
                stage=timing.stage, stage_name=timing.name, due=due, basis=basis, next_action=clock.next_action,
                local_setting=local, deadline=deadline, resolved=clock.resolved if resolved_stage is not None else None,
            )
            target_key = key if index == 0 and address == bu else f"{key}:party:{slug(addr_spec(address), 64)}"
            found.append(Planned(
                key=target_key, kind=kind, document="reminder", case_ref=snapshot.ref, recipient=address, view=view,
                in_reply_to=in_reply_to, references=references,
                description=f"{words}: stage {timing.stage}" + (f" due {due_key(due)}" if due else "") + f" to {name}",
            ))

    rules = {d.name: d for d in protocol.stage(timing.stage, timing.variant).deadlines}
    for own in clock.resolution_deadlines if resolved_stage is not None else current.deadlines:
        hourly = own.name in rules and rules[own.name].timescale.hours is not None
        remind_at = deadline_reminder_at(own, hourly, deadline_started(own, timing, clock), calendar)
        if passed_unrecorded(own) and (hourly or working):
            owe("overdue", f"overdue:{snapshot.ref}:{stage}:{own.name}:{due_key(own.due)}", own.due, own.basis,
                f"overdue: {own.what}", deadline=own.what)
        elif remind_at is not None and remind_at <= now <= own.due and (hourly or working):
            owe("reminder", f"reminder:{snapshot.ref}:{stage}:{own.name}:{due_key(own.due)}", own.due, own.basis,
                f"reminder: {own.what}", deadline=own.what)
    if resolved_stage is not None:
        return found
    if current.due is not None:
        hourly = protocol.stage(current.stage, current.variant).timescale.hours is not None
        if now > current.due and (hourly or working):
            owe("overdue", f"overdue:{snapshot.ref}:{stage}:{due_key(current.due)}", current.due, current.basis,
                "overdue alert")
        elif (now <= current.due and (hourly or working)
              and now >= reminder_from(current.due, current.started, hourly, calendar)):
            owe("reminder", f"reminder:{snapshot.ref}:{stage}:{due_key(current.due)}", current.due, current.basis,
                "reminder")
    elif working:
        count = review_count(current, now, calendar, recipients.review_every_working_days)
        if count:
            owe("reminder", f"review:{snapshot.ref}:{stage}:{count}", None, current.basis,
                f"review reminder {count}", local=True)
    cumulative = current.cumulative_due
    if cumulative is not None and now > cumulative and working:
        days = protocol.stage(current.stage, current.variant).cumulative_working_days
        owe("overdue", f"overdue:{snapshot.ref}:{stage}:cumulative:{due_key(cumulative)}", cumulative,
            f"the cumulative target of {days} working days from the start of the case", "cumulative target passed")
    return found
