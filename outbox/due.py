"""When a case can next be owed anything, from the same snapshot and clock planning reads (pure).

``next_due`` is stored on the case after it is planned (``outbox.dispatch.plan_all``); the
tick plans only the cases whose ``next_due`` has come. It is the earliest moment after
``now`` at which ``plan_case`` could return something it did not return at ``now``:

- a recorded event whose time has not come (its acknowledgement or notice, ``planned.CLOCK_SKEW``
  early; its place on the clock at its time);
- for the running stage (``outbox.reminders``): the reminder's moment (an hour deadline's
  last working hours; a working-day deadline's last working day, in working hours), the
  stage's due time, its own deadlines' reminders (by the same rule) and their passing, and the
  cumulative target passing (at once for a deadline in hours, otherwise in the next working
  hours), and, for a stage with no fixed timescale, the next working day's opening (its review
  count moves by working day);
- for a resolved case, its deadlines counted from the resolution not recorded done (an outcome
  letter): each one's reminder and its passing, by the same rule;
- a case not resolved is looked at again within ``LONGEST_WAIT`` whatever it holds.

Returns None when nothing further can be owed (a resolved case whose events have all come and
whose deadlines counted from the resolution are recorded done or have had their alert's moment).
A case changed meanwhile is due at once (``cases.due``), whatever this said.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from resdesk.protocols import CaseClock, DeadlineTiming, Protocol, StageTiming, WorkingCalendar, to_local
from resdesk.protocols.timeparse import LOCAL
from resdesk.render.snapshot import CaseSnapshot

from .planned import CLOCK_SKEW, RESOLVED, WORKING_HOURS, clock_at, in_working_hours
from .reminders import deadline_reminder_at, deadline_started, reminder_from

__all__ = ["LONGEST_WAIT", "next_due"]

LONGEST_WAIT = timedelta(days=1)
_PASSED = timedelta(seconds=1)  # a deadline has passed once ``now`` is after it


def opening(moment: datetime, calendar: WorkingCalendar) -> datetime:
    """The earliest moment at or after ``moment`` within working hours (09:00-17:00 local, working days)."""
    local = to_local(moment)
    start, end = WORKING_HOURS
    day = local.date()
    if calendar.is_working_day(day) and local.time() < end:
        return max(local, datetime.combine(day, start, tzinfo=LOCAL))
    day += timedelta(days=1)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, start, tzinfo=LOCAL)


def next_due(snapshot: CaseSnapshot, protocol: Protocol, calendar: WorkingCalendar, now: datetime) -> datetime | None:
    """The earliest moment after ``now`` (aware) the case can next be owed a message, or None."""
    found: list[datetime] = []
    working = in_working_hours(now, calendar)

    def anytime(moment: datetime | None) -> None:
        if moment is not None and moment > now:
            found.append(moment)

    def in_hours(moment: datetime | None) -> None:
        if moment is None:
            return
        at = opening(moment, calendar)
        if at > now:
            found.append(at)
        elif not working:  # owed since, held until working hours
            found.append(opening(now, calendar))

    for event in snapshot.events:
        anytime(event.at - CLOCK_SKEW)
        anytime(event.at)

    def deadlines(timing: StageTiming, clock: CaseClock, owned: list[DeadlineTiming]) -> None:
        rules = protocol.stage(timing.stage, timing.variant).deadlines
        hourly = {d.name for d in rules if d.timescale.hours is not None}
        for own in owned:
            owed = anytime if own.name in hourly else in_hours
            if own.done is None:
                owed(own.due + _PASSED)
            reminder = deadline_reminder_at(own, own.name in hourly, deadline_started(own, timing, clock), calendar)
            if reminder is not None and own.due > now:
                owed(reminder)

    clock = clock_at(protocol, snapshot, now, calendar)
    if clock.resolved_stage is not None:
        deadlines(clock.resolved_stage, clock, clock.resolution_deadlines)
    if snapshot.status != RESOLVED:
        found.append(now + LONGEST_WAIT)
        current = clock.current
        if current is not None:
            rules = protocol.stage(current.stage, current.variant)
            if current.due is not None:
                stage_hourly = rules.timescale.hours is not None
                owed = anytime if stage_hourly else in_hours
                owed(reminder_from(current.due, current.started, stage_hourly, calendar))
                owed(current.due + _PASSED)
            else:
                tomorrow = to_local(now).date() + timedelta(days=1)
                in_hours(datetime.combine(tomorrow, WORKING_HOURS[0], tzinfo=LOCAL) if working else now)
            deadlines(current, clock, list(current.deadlines))
            in_hours(current.cumulative_due + _PASSED if current.cumulative_due else None)
    return min(found) if found else None
