"""Working days per nation, with the subdivision always explicit, and local closure days."""

from __future__ import annotations

from datetime import date

import pytest

from resdesk.protocols import Nation, WorkingCalendar


@pytest.mark.parametrize(
    "day, working_in",
    [
        (date(2026, 11, 30), {"england", "wales", "northern-ireland"}),  # St Andrew's Day: Scotland only
        (date(2027, 1, 4), {"england", "wales", "northern-ireland"}),  # 2 January substitute: Scotland only
        (date(2027, 3, 17), {"england", "wales", "scotland"}),  # St Patrick's Day: Northern Ireland only
        (date(2026, 8, 3), {"england", "wales", "northern-ireland"}),  # Summer bank holiday: Scotland in August
        (date(2026, 8, 31), {"scotland"}),  # Late summer bank holiday everywhere else
        (date(2027, 3, 29), {"scotland"}),  # Easter Monday is not a Scottish bank holiday
        (date(2026, 12, 28), set()),  # Boxing Day substitute
    ],
)
def test_nations_differ(day, working_in):
    """GIVEN a day that is a bank holiday in some nations THEN it is a working day only in the others."""
    working = {n.value for n in Nation if WorkingCalendar(n).is_working_day(day)}
    assert working == working_in


def test_weekends_are_never_working_days():
    """GIVEN any nation THEN Saturday and Sunday are not working days."""
    for nation in Nation:
        calendar = WorkingCalendar(nation)
        assert not calendar.is_working_day(date(2026, 11, 28))
        assert not calendar.is_working_day(date(2026, 11, 29))


def test_extra_closure_days_are_skipped():
    """GIVEN a partnership closure day THEN deadlines count past it, and it says why."""
    closure = date(2026, 12, 24)
    plain = WorkingCalendar("england")
    closed = WorkingCalendar("england", [closure])
    assert plain.add_working_days(date(2026, 12, 23), 1) == date(2026, 12, 24)
    assert closed.add_working_days(date(2026, 12, 23), 1) == date(2026, 12, 29)
    assert closed.closure_name(closure) == "local closure day"
    assert plain.closure_name(date(2026, 12, 25)) == "Christmas Day"


def test_day_zero_is_the_start_date_itself():
    """GIVEN a start on a Saturday WHEN counting one working day THEN the next Monday is day 1."""
    calendar = WorkingCalendar("england")
    assert calendar.add_working_days(date(2026, 11, 28), 0) == date(2026, 11, 28)
    assert calendar.add_working_days(date(2026, 11, 28), 1) == date(2026, 11, 30)
    assert calendar.working_days_between(date(2026, 11, 28), date(2026, 11, 30)) == 1
