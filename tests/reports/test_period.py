"""Periods a person types: quarters, months and date ranges (Europe/London days)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from resdesk.errors import UsageError
from resdesk.reports import PeriodError, parse_period


def test_a_quarter_a_month_and_a_range():
    """GIVEN the three ways of naming a period WHEN parsed THEN each covers exactly its days."""
    q4 = parse_period("2026Q4")
    assert (q4.first, q4.last, q4.label) == (date(2026, 10, 1), date(2026, 12, 31), "2026Q4")
    assert parse_period("2026-q1").last == date(2026, 3, 31)
    november = parse_period("2026-11")
    assert (november.first, november.last) == (date(2026, 11, 1), date(2026, 11, 30))
    assert parse_period("2028-02").last == date(2028, 2, 29)
    span = parse_period("2026-10-05..2026-11-20")
    assert (span.first, span.last) == (date(2026, 10, 5), date(2026, 11, 20))
    assert parse_period("2026-10-05 to 2026-10-05").last == date(2026, 10, 5)


def test_bounds_are_london_midnights():
    """GIVEN Q4 2026 WHEN a case starts at 00:30 BST on 1 October (23:30 UTC on 30 September)
    THEN it falls in Q4, and 00:30 GMT on 1 January does not."""
    q4 = parse_period("2026Q4")
    assert datetime(2026, 9, 30, 23, 30, tzinfo=timezone.utc) in q4
    assert datetime(2026, 9, 30, 22, 59, tzinfo=timezone.utc) not in q4
    assert datetime(2027, 1, 1, 0, 30, tzinfo=timezone.utc) not in q4
    assert datetime(2026, 12, 31, 23, 59, tzinfo=timezone.utc) in q4


@pytest.mark.parametrize("text", ["", "Q4", "2026Q5", "2026-13", "2026-11-31..2026-12-01", "2026-12-01..2026-11-01",
                                  "last quarter"])
def test_anything_else_is_refused_with_the_forms_it_accepts(text):
    """GIVEN text that names no period WHEN parsed THEN a usage error (exit 2) says what is accepted."""
    with pytest.raises(PeriodError) as caught:
        parse_period(text)
    assert isinstance(caught.value, UsageError) and caught.value.exit_status == 2
    assert "2026Q4" in str(caught.value)


@given(st.integers(2000, 2100), st.integers(1, 4))
def test_four_quarters_tile_the_year(year, quarter):
    """GIVEN any quarter WHEN parsed THEN it starts the day after the previous quarter ends."""
    period = parse_period(f"{year}Q{quarter}")
    previous = parse_period(f"{year - 1}Q4" if quarter == 1 else f"{year}Q{quarter - 1}")
    assert period.first == previous.last + timedelta(days=1)
    assert period.first.month == 3 * quarter - 2


@given(st.text(max_size=30))
def test_never_crashes(text):
    """GIVEN any text WHEN parsed THEN it is a period or a PeriodError, nothing else."""
    try:
        period = parse_period(text)
    except PeriodError:
        return
    assert period.first <= period.last
