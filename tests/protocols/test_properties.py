"""Properties of the stage clock that hold for every protocol, stage and start."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from resdesk.protocols import WorkingCalendar, default_registry, due_after, to_local

STAGES = [(p, s) for p in default_registry() for s in p.stages]
CALENDARS = {p.id: WorkingCalendar(p.nation) for p in default_registry()}
starts = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(timezone.utc)
)
protocol_stages = st.sampled_from(STAGES)
working_day_stages = st.sampled_from([(p, s) for p, s in STAGES if s.timescale.working_days is not None])


@settings(max_examples=300, deadline=None)
@given(protocol_stages, starts)
def test_due_is_never_before_the_start(pair, start):
    """GIVEN any stage and start THEN the due time, if any, is not before the start."""
    protocol, stage = pair
    due = due_after(stage.timescale, start, CALENDARS[protocol.id])
    assert due is None or due >= start


@settings(max_examples=300, deadline=None)
@given(protocol_stages, starts, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)))
def test_a_later_start_never_gives_an_earlier_due(pair, start, later_by):
    """GIVEN two starts, one later THEN the later start's due time is not earlier."""
    protocol, stage = pair
    calendar = CALENDARS[protocol.id]
    first = due_after(stage.timescale, start, calendar)
    second = due_after(stage.timescale, start + later_by, calendar)
    assert (first is None) == (second is None)
    if first is not None:
        assert second >= first


@settings(max_examples=300, deadline=None)
@given(working_day_stages, starts)
def test_exactly_n_working_days_between_start_date_and_due_date(pair, start):
    """GIVEN a working-day stage THEN exactly N working days lie after the start's local date up to the due date,
    and the due date is itself a working day."""
    protocol, stage = pair
    n = stage.timescale.working_days
    calendar = CALENDARS[protocol.id]
    due = due_after(stage.timescale, start, calendar)
    start_date = to_local(start).date()
    assert calendar.working_days_between(start_date, due.date()) == n
    assert (due.hour, due.minute, due.second) == (23, 59, 59)
    if n > 0:
        assert calendar.is_working_day(due.date())


@settings(max_examples=200, deadline=None)
@given(starts, st.integers(min_value=1, max_value=72))
def test_hours_are_elapsed_time(start, hours):
    """GIVEN an hours timescale THEN the due instant is exactly that much elapsed time later."""
    from resdesk.protocols import Timescale

    due = due_after(Timescale(hours=hours), start, CALENDARS["oldham"])
    assert due - start == timedelta(hours=hours)
