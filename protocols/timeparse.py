"""Reading and writing instants in the product's local time (Europe/London)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from resdesk.errors import UsageError

LOCAL = ZoneInfo("Europe/London")


def to_local(moment: datetime) -> datetime:
    """The same instant on the Europe/London clock; a naive time is taken as local."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=LOCAL)
    return moment.astimezone(LOCAL)


def parse_when(text: str, *, what: str = "time") -> datetime:
    """Read an ISO 8601 date or date-time; without an offset it is local time.

    A bare date means the start of that day.
    """
    value = text.strip()
    try:
        if len(value) == 10:
            moment = datetime.combine(date.fromisoformat(value), time())
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"Cannot read the {what} '{text}'; give an ISO date or date-time such as 2026-12-23T10:00."
        ) from None
    return to_local(moment)


def end_of_local_day(day: date) -> datetime:
    """23:59:59 local on ``day``: the due instant of a day-based deadline (PRODUCT §4)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=LOCAL)
