"""How documents print times, dates and yes/no: always UK style, always local time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

__all__ = ["LOCAL", "local", "when", "day", "short", "yesno", "FILTERS"]

LOCAL = ZoneInfo("Europe/London")


def local(moment: datetime) -> datetime:
    """``moment`` in Europe/London; a naive time is already local (PRODUCT §4)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=LOCAL)
    return moment.astimezone(LOCAL)


def when(moment: datetime | None, empty: str = "no fixed timescale") -> str:
    """'Tuesday 29 December 2026 at 23:59' in local time."""
    if moment is None:
        return empty
    moment = local(moment)
    return f"{moment:%A} {moment.day} {moment:%B %Y} at {moment:%H:%M}"


def day(value: date | datetime | None, empty: str = "") -> str:
    """'29 December 2026'."""
    if value is None:
        return empty
    if isinstance(value, datetime):
        value = local(value).date()
    return f"{value.day} {value:%B %Y}"


def short(moment: datetime | None, empty: str = "") -> str:
    """'29/12/2026 23:59' in local time, for tables."""
    if moment is None:
        return empty
    return f"{local(moment):%d/%m/%Y %H:%M}"


def yesno(value: bool | None) -> str:
    return {True: "Yes", False: "No", None: ""}[value]


FILTERS = {"when": when, "day": day, "short": short, "yesno": yesno}
