"""The stage clock follows the deadline rules of PRODUCT §4 exactly."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from resdesk.protocols import (
    LOCAL,
    CaseResolved,
    StageEntered,
    StageStatus,
    Timescale,
    WorkingCalendar,
    default_registry,
    due_after,
    evaluate,
)

ENGLAND = WorkingCalendar("england")


def local(*parts) -> datetime:
    return datetime(*parts, tzinfo=LOCAL)


@pytest.mark.parametrize(
    "timescale, start, due",
    [
        ({"working_days": 2}, local(2026, 12, 23, 10), local(2026, 12, 29, 23, 59, 59)),
        ({"working_days": 2}, local(2026, 12, 23, 23, 59), local(2026, 12, 29, 23, 59, 59)),  # the hour does not matter
        ({"working_days": 1}, local(2026, 12, 26, 9), local(2026, 12, 29, 23, 59, 59)),  # started on a holiday: day 0 all the same
        ({"working_days": 0}, local(2026, 12, 26, 9), local(2026, 12, 26, 23, 59, 59)),
        ({"working_days": 5}, local(2027, 3, 24, 15), local(2027, 4, 2, 23, 59, 59)),  # Easter 2027 skipped
        ({"hours": 24}, local(2026, 11, 27, 16), local(2026, 11, 28, 16)),  # hours run over the weekend
        ({"hours": 24}, local(2027, 3, 27, 12), local(2027, 3, 28, 13)),  # elapsed: the clocks go forward
        ({"hours": 24}, local(2026, 10, 24, 12), local(2026, 10, 25, 11)),  # elapsed: the clocks go back
        ({"same_day": True}, local(2026, 12, 24, 8), local(2026, 12, 24, 23, 59, 59)),
        ({"no_fixed_timescale": "without delay"}, local(2026, 12, 24, 8), None),
    ],
)
def test_due_times(timescale, start, due):
    """GIVEN a timescale and a start WHEN the due time is computed THEN it follows PRODUCT §4."""
    assert due_after(Timescale(**timescale), start, ENGLAND) == due


def test_a_start_in_utc_is_read_on_the_local_date():
    """GIVEN 23:30 UTC in summer (00:30 the next day in London) THEN day 0 is the London date."""
    start = datetime(2027, 6, 3, 23, 30, tzinfo=timezone.utc)  # Friday 04 June 00:30 BST
    assert due_after(Timescale(working_days=1), start, ENGLAND) == local(2027, 6, 7, 23, 59, 59)


def test_case_through_oldham_stages_with_statuses():
    """GIVEN an Oldham case escalated from stage 1 to 2 late and now in stage 3
    WHEN evaluated THEN met/missed/overdue are reported with the next expected action."""
    oldham = default_registry().get("oldham")
    events = [
        StageEntered(1, local(2026, 12, 14, 9)),  # due Wed 16th
        StageEntered(2, local(2026, 12, 17, 11)),  # late for stage 1; stage 2 due Mon 21st
        StageEntered(3, local(2026, 12, 18, 15)),  # stage 3 due Tue 22nd
    ]
    clock = evaluate(oldham, events, now=local(2026, 12, 23, 9), calendar=ENGLAND)
    assert [t.status for t in clock.recorded] == [StageStatus.MISSED, StageStatus.MET, StageStatus.OVERDUE]
    assert clock.recorded[2].due == local(2026, 12, 22, 23, 59, 59)
    assert clock.recorded[2].cumulative_due == local(2026, 12, 31, 23, 59, 59)  # 11 working days from the 14th
    assert clock.overdue
    assert "Stage 3 is overdue" in clock.next_action
    assert "Resolution Notice" in clock.next_action
    assert "resolution notice to Oldham Safeguarding Children Partnership (OSCP) group" in clock.next_action
    assert [n.notice.value for n in clock.notices_on_escalation] == ["resolution-notice"]


def test_due_today_and_on_time():
    """GIVEN a stage due later today THEN it is due today; due another day THEN on time."""
    oldham = default_registry().get("oldham")
    events = [StageEntered(2, local(2026, 12, 23, 10))]
    assert evaluate(oldham, events, local(2026, 12, 29, 9), ENGLAND).recorded[0].status is StageStatus.DUE_TODAY
    assert evaluate(oldham, events, local(2026, 12, 24, 9), ENGLAND).recorded[0].status is StageStatus.ON_TIME
    assert evaluate(oldham, events, local(2026, 12, 30, 0, 0, 1), ENGLAND).recorded[0].status is StageStatus.OVERDUE


def test_resolution_stops_the_clock():
    """GIVEN a resolved case THEN nothing is current or overdue and later events are ignored."""
    oldham = default_registry().get("oldham")
    events = [
        StageEntered(1, local(2026, 12, 14, 9)),
        CaseResolved(local(2026, 12, 15, 9)),
        StageEntered(2, local(2026, 12, 16, 9)),
    ]
    clock = evaluate(oldham, events, local(2027, 2, 1), ENGLAND)
    assert clock.current is None
    assert not clock.overdue
    assert len(clock.recorded) == 1 and clock.recorded[0].status is StageStatus.MET
    assert clock.next_action.startswith("None: resolved on 15 December 2026")


def test_no_fixed_timescale_is_said_plainly():
    """GIVEN Haringey stage 2 THEN there is no due time and the clock says so."""
    haringey = default_registry().get("haringey")
    clock = evaluate(haringey, [StageEntered(2, local(2026, 12, 1))], local(2027, 6, 1), ENGLAND)
    timing = clock.recorded[0]
    assert (timing.due, timing.status, timing.basis) == (None, StageStatus.NO_FIXED_TIMESCALE, "no fixed timescale")
    assert "no fixed timescale under the protocol" in clock.next_action


def test_cumulative_counts_from_the_protocols_anchor_stage():
    """GIVEN Sandwell, whose cumulative days count from stage 1 THEN an earlier informal stage does not shift them."""
    sandwell = default_registry().get("sandwell")
    events = [StageEntered(0, local(2026, 11, 23, 9)), StageEntered(1, local(2026, 11, 24, 9)), StageEntered(2, local(2026, 11, 27, 9))]
    clock = evaluate(sandwell, events, local(2026, 11, 27, 10), ENGLAND)
    assert clock.recorded[2].cumulative_due == local(2026, 12, 4, 23, 59, 59)  # day 8 counted from Tue 24th


def test_events_in_any_order():
    """GIVEN the same events shuffled THEN the clock is the same."""
    oldham = default_registry().get("oldham")
    events = [StageEntered(1, local(2026, 12, 14, 9)), StageEntered(2, local(2026, 12, 15, 9))]
    now = local(2026, 12, 16)
    assert evaluate(oldham, events, now, ENGLAND) == evaluate(oldham, list(reversed(events)), now, ENGLAND)
