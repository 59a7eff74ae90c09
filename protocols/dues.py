"""When a timescale falls due: the deadline rules of PRODUCT §4.

Pure: nothing here reads the clock, the network or the database.

- within N working days of T: 23:59:59 local on the N-th working day after T's
  local date (that date is day 0, whatever the hour and whether or not it is a
  working day);
- within N hours: T + N hours of elapsed time;
- same day: 23:59:59 local on T's date; the same working day (``same_working_day``):
  23:59:59 on T's date if a working day, else on the next working day;
- within N calendar months: 23:59:59 local on the same day of the month N months on
  (the month's last day when it is shorter), whatever the working days;
- otherwise there is no due time ("no fixed timescale");
- a cumulative target counts N working days from the case's start the same way.
"""

from __future__ import annotations

import calendar as month_calendar
from datetime import date, datetime, timedelta, timezone

from resdesk.protocols.calendar import WorkingCalendar
from resdesk.protocols.schema import Stage, Timescale
from resdesk.protocols.timeparse import end_of_local_day, to_local

__all__ = ["add_calendar_months", "cumulative_due", "due_after"]


def due_after(timescale: Timescale, start: datetime, calendar: WorkingCalendar) -> datetime | None:
    """When a stage with this timescale, started at ``start``, is due; None if never."""
    start = to_local(start)
    if timescale.same_working_day:
        day = start.date()
        return end_of_local_day(day if calendar.is_working_day(day) else calendar.add_working_days(day, 1))
    if timescale.working_days is not None:
        return end_of_local_day(calendar.add_working_days(start.date(), timescale.working_days))
    if timescale.hours is not None:
        # Elapsed time: add in UTC, so a clock change in between is counted as it happened.
        return to_local(start.astimezone(timezone.utc) + timedelta(hours=timescale.hours))
    if timescale.same_day:
        return end_of_local_day(start.date())
    if timescale.calendar_months is not None:
        return end_of_local_day(add_calendar_months(start.date(), timescale.calendar_months))
    return None


def add_calendar_months(day: date, months: int) -> date:
    """The same day of the month ``months`` later; the month's last day when it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def cumulative_due(
    stage: Stage, case_start: datetime | None, calendar: WorkingCalendar
) -> datetime | None:
    """The stage's cumulative target counted from the case's start, where the seed gives one."""
    if stage.cumulative_working_days is None or case_start is None:
        return None
    return end_of_local_day(
        calendar.add_working_days(to_local(case_start).date(), stage.cumulative_working_days)
    )
