"""Working days per UK nation: weekdays that are not bank holidays or local closures.

Bank holidays come from the ``holidays`` package, always with the nation's
subdivision given explicitly (England, Wales, Scotland and Northern Ireland
differ). A partnership may add its own closure days.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Iterable

from resdesk.protocols.schema import Nation


@lru_cache(maxsize=8)
def _bank_holidays(subdivision: str):
    import holidays

    return holidays.country_holidays("GB", subdiv=subdivision)


class WorkingCalendar:
    """Answers 'is this a working day?' and counts working days for one nation."""

    def __init__(self, nation: Nation | str, extra_closures: Iterable[date] = ()):
        self.nation = Nation(nation)
        self.extra_closures = frozenset(extra_closures)
        self._holidays = _bank_holidays(self.nation.subdivision)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays and day not in self.extra_closures

    def closure_name(self, day: date) -> str | None:
        """Why a weekday is not a working day, or None."""
        if day in self.extra_closures:
            return "local closure day"
        return self._holidays.get(day)

    def add_working_days(self, start: date, count: int) -> date:
        """The ``count``-th working day after ``start`` (``start`` itself is day 0)."""
        if count < 0:
            raise ValueError("count must not be negative")
        day = start
        remaining = count
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many a deadline counted past ``start``."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(
            1 for offset in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(days=offset))
        )
