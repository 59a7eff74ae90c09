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
  setting, said so in the letter), the n-th time in working hours.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from resdesk.protocols import DeadlineTiming, Protocol, StageStatus, StageTiming, WorkingCalendar, to_local
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


def reminders(
    snapshot: CaseSnapshot, protocol: Protocol, calendar: WorkingCalendar, now: datetime, recipients: Recipients
) -> list[Planned]:
    """Every reminder, review reminder and overdue alert the running stage is owed at ``now``."""
    if snapshot.status == RESOLVED:
        return []
    clock = clock_at(protocol, snapshot, now, calendar)
    current = clock.current
    if current is None:
        return []
    working = in_working_hours(now, calendar)
    bu = recipients.for_contact("business_unit", "Business Unit")[0]
    people = ([(bu, "Business Unit")] if bu else []) + recipients.parties(snapshot)
    stage = stage_label(current.stage, current.variant)
    in_reply_to, references = conversation(snapshot)
    found: list[Planned] = []

    def owe(kind: str, key: str, due: datetime | None, basis: str, words: str, local: bool = False,
            deadline: str = "") -> None:
        for index, (address, name) in enumerate(people):
            view = ReminderView(
                kind=kind, case_ref=snapshot.ref, protocol_name=protocol_name(protocol), sender_agency=protocol.name,
                recipient=Party(name=name, email=addr_spec(address)), issued_at=now, as_of=now,
                stage=current.stage, stage_name=current.name, due=due, basis=basis, next_action=clock.next_action,
                local_setting=local, deadline=deadline,
            )
            target_key = key if index == 0 and address == bu else f"{key}:party:{slug(addr_spec(address), 64)}"
            found.append(Planned(
                key=target_key, kind=kind, document="reminder", case_ref=snapshot.ref, recipient=address, view=view,
                in_reply_to=in_reply_to, references=references,
                description=f"{words}: stage {current.stage}" + (f" due {due_key(due)}" if due else "") + f" to {name}",
            ))

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
    rules = {d.name: d for d in protocol.stage(current.stage, current.variant).deadlines}
    for own in current.deadlines:
        hourly = own.name in rules and rules[own.name].timescale.hours is not None
        remind_at = deadline_reminder_at(own, hourly, current.started, calendar)
        if own.status is StageStatus.OVERDUE and (hourly or working):
            owe("overdue", f"overdue:{snapshot.ref}:{stage}:{own.name}:{due_key(own.due)}", own.due, own.basis,
                f"overdue: {own.what}", deadline=own.what)
        elif remind_at is not None and remind_at <= now <= own.due and (hourly or working):
            owe("reminder", f"reminder:{snapshot.ref}:{stage}:{own.name}:{due_key(own.due)}", own.due, own.basis,
                f"reminder: {own.what}", deadline=own.what)
    cumulative = current.cumulative_due
    if cumulative is not None and now > cumulative and working:
        days = protocol.stage(current.stage, current.variant).cumulative_working_days
        owe("overdue", f"overdue:{snapshot.ref}:{stage}:cumulative:{due_key(cumulative)}", cumulative,
            f"the cumulative target of {days} working days from the start of the case", "cumulative target passed")
    return found
