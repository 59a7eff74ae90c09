"""The period a return covers: a quarter, a month or a range of dates (pure).

``2026Q4`` is 1 October to 31 December 2026 (Oldham §1.6 collates themes "on a
quarterly basis"); ``2026-11`` is November 2026; ``2026-10-01..2026-12-31`` is
the dates given, both included. A period's bounds are Europe/London midnights,
so a case opened at 00:30 on 1 October (BST) falls in Q4 although it is still
30 September in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from resdesk.errors import UsageError

LONDON = ZoneInfo("Europe/London")

_QUARTER = re.compile(r"^(?P<year>\d{4})-?Q(?P<quarter>[1-4])$", re.I)
_MONTH = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})$")
_RANGE = re.compile(r"^(?P<first>\d{4}-\d{2}-\d{2})\s*(?:\.\.|/|\s+to\s+)\s*(?P<last>\d{4}-\d{2}-\d{2})$", re.I)


class PeriodError(UsageError):
    """A period a person typed is not a quarter, a month or a date range."""

    exit_status = 2

    def __init__(self, text: str, reason: str):
        self.text = text
        self.reason = reason
        super().__init__(f"The period {text!r} {reason}; give a quarter (2026Q4), a month (2026-11) "
                         "or a range of dates (2026-10-01..2026-12-31).")


@dataclass(frozen=True)
class Period:
    """The days ``first`` to ``last`` (both included), with the name a return prints."""

    first: date
    last: date
    label: str

    @property
    def start(self) -> datetime:
        """Local midnight starting ``first`` (timezone-aware)."""
        return datetime.combine(self.first, time(0), LONDON)

    @property
    def end(self) -> datetime:
        """Local midnight after ``last``: the period is ``start <= t < end``."""
        return datetime.combine(self.last + timedelta(days=1), time(0), LONDON)

    @property
    def slug(self) -> str:
        """A name fit for a file: ``2026Q4``, ``2026-11``, ``2026-10-01_2026-12-31``."""
        return re.sub(r"[^0-9A-Za-z-]+", "_", self.label.replace("..", "_"))

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def parse_period(text: str) -> Period:
    """The period ``text`` names; ``PeriodError`` when it names none (or ends before it starts)."""
    value = (text or "").strip()
    if (match := _QUARTER.match(value)) is not None:
        year, quarter = int(match["year"]), int(match["quarter"])
        first = date(year, 3 * quarter - 2, 1)
        following = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
        return Period(first, following - timedelta(days=1), f"{year}Q{quarter}")
    if (match := _MONTH.match(value)) is not None:
        year, month = int(match["year"]), int(match["month"])
        if not 1 <= month <= 12:
            raise PeriodError(text, "has no such month")
        following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        return Period(date(year, month, 1), following - timedelta(days=1), f"{year}-{month:02d}")
    if (match := _RANGE.match(value)) is not None:
        try:
            first, last = date.fromisoformat(match["first"]), date.fromisoformat(match["last"])
        except ValueError:
            raise PeriodError(text, "names a date that does not exist") from None
        if last < first:
            raise PeriodError(text, "ends before it starts")
        return Period(first, last, f"{first.isoformat()}..{last.isoformat()}")
    raise PeriodError(text, "is not a period")
