"""The stage clock follows the deadline rules of PRODUCT §4 exactly."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from resdesk.protocols import (
    LOCAL,
    CaseResolved,
    DeadlineMet,
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
    # The first stage heard of starts at its first mail, an estimate (no case start given): the
    # stage ended by its due time counted from that estimate, so "met" is itself an estimate.
    assert len(clock.recorded) == 1 and clock.recorded[0].status is StageStatus.MET_ESTIMATED
    assert clock.next_action.startswith("None: resolved on 15 December 2026")
    stated = evaluate(oldham, events, local(2027, 2, 1), ENGLAND, stage_starts={1: local(2026, 12, 14, 9)})
    assert stated.recorded[0].status is StageStatus.MET  # from a stated stage start: known


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


def _deadline(clock, stage: int, name: str):
    timing = [t for t in clock.recorded if t.stage == stage][-1]
    return next(d for d in timing.deadlines if d.name == name)


def test_lscp_urgent_step_4_sets_the_meeting_date_in_24_hours_and_the_step_runs_on():
    """GIVEN LSCP/LSAB step 4 urgent entered Tue 24 Nov 11:00 WHEN the clock runs THEN the step has no
    fixed time, its meeting-date deadline is Wed 25 Nov 11:00 (24 elapsed hours), overdue after that
    while the step runs; a non-urgent case takes the non-urgent step 4 with no such deadline."""
    lscp = default_registry().get("lscp-lsab")
    events = [StageEntered(3, local(2026, 11, 20, 10)), StageEntered(4, local(2026, 11, 24, 11))]
    urgent = evaluate(lscp, events, local(2026, 11, 25, 12), ENGLAND, conditions={"urgent": True})
    step4 = urgent.recorded[-1]
    assert (step4.variant, step4.due, step4.status) == ("urgent", None, StageStatus.NO_FIXED_TIMESCALE)
    date_set = _deadline(urgent, 4, "meeting-date-set")
    assert (date_set.due, date_set.status) == (local(2026, 11, 25, 11), StageStatus.OVERDUE)
    assert "the date of the independently chaired meeting set by Wed 25 Nov 2026 11:00 (24 hours), overdue." in urgent.next_action
    calm = evaluate(lscp, events, local(2026, 11, 25, 12), ENGLAND, conditions={"urgent": False})
    assert (calm.recorded[-1].variant, calm.recorded[-1].deadlines) == ("non-urgent", ())


def test_a_deadline_counted_from_the_stage_s_start_recorded_done_and_what_a_person_may_record():
    """GIVEN LSCP/LSAB urgent step 4 entered Tue 24 Nov 11:00 (its meeting date due Wed 25 Nov 11:00) WHEN a
    person records the date set on Wed 25 Nov 10:00 THEN it reads met and is no longer one to record; WHEN
    recorded at 12:00 THEN missed; WHEN recorded the day before the step began THEN not read (still overdue,
    still to record); WHEN the step ended by the deadline THEN it is met by the step's end, whatever a late
    record says, and not one to record; a deadline counted from the stage's due time is never one to record."""
    lscp = default_registry().get("lscp-lsab")
    urgent = {"urgent": True}
    events = [StageEntered(3, local(2026, 11, 20, 10)), StageEntered(4, local(2026, 11, 24, 11))]
    now = local(2026, 11, 26, 9)
    open_ = evaluate(lscp, events, now, ENGLAND, conditions=urgent)
    assert [(t.stage, d.name) for t, d in open_.recordable] == [(4, "meeting-date-set")]
    on_time = evaluate(lscp, [*events, DeadlineMet("meeting-date-set", local(2026, 11, 25, 10))], now, ENGLAND,
                       conditions=urgent)
    date_set = _deadline(on_time, 4, "meeting-date-set")
    assert (date_set.status, date_set.done, on_time.recordable) == (StageStatus.MET, local(2026, 11, 25, 10), [])
    late = evaluate(lscp, [*events, DeadlineMet("meeting-date-set", local(2026, 11, 25, 12))], now, ENGLAND,
                    conditions=urgent)
    assert _deadline(late, 4, "meeting-date-set").status is StageStatus.MISSED
    before = evaluate(lscp, [*events, DeadlineMet("meeting-date-set", local(2026, 11, 23, 12))], now, ENGLAND,
                      conditions=urgent)
    assert (_deadline(before, 4, "meeting-date-set").status, len(before.recordable)) == (StageStatus.OVERDUE, 1)
    ended = [*events, CaseResolved(local(2026, 11, 25, 9)), DeadlineMet("meeting-date-set", local(2026, 11, 25, 12))]
    resolved = evaluate(lscp, ended, now, ENGLAND, conditions=urgent)
    assert (_deadline(resolved, 4, "meeting-date-set").status, resolved.recordable) == (StageStatus.MET, [])
    glos = default_registry().get("gloucestershire")
    running = evaluate(glos, [StageEntered(3, local(2026, 12, 2, 10))], local(2026, 12, 10, 9), ENGLAND)
    assert _deadline(running, 3, "escalate-to-stage-4") and running.recordable == []


def test_gloucestershire_escalation_to_stage_4_no_later_than_one_working_day():
    """GIVEN Gloucestershire stage 3 entered Wed 2 Dec 2026 WHEN stage 4 is entered Thu 10 Dec, or Fri 11 Dec
    THEN stage 3 is due Wed 9 Dec (5 working days: 3, 4, 7, 8, 9) and the escalation Thu 10 Dec: met, then missed."""
    glos = default_registry().get("gloucestershire")
    entered = [StageEntered(3, local(2026, 12, 2, 10))]
    running = evaluate(glos, entered, local(2026, 12, 10, 9), ENGLAND)
    assert (_deadline(running, 3, "escalate-to-stage-4").due, _deadline(running, 3, "escalate-to-stage-4").status) == (
        local(2026, 12, 10, 23, 59, 59), StageStatus.DUE_TODAY)
    on_time = evaluate(glos, entered + [StageEntered(4, local(2026, 12, 10, 16))], local(2026, 12, 14), ENGLAND)
    assert _deadline(on_time, 3, "escalate-to-stage-4").status is StageStatus.MET
    late = evaluate(glos, entered + [StageEntered(4, local(2026, 12, 11, 9))], local(2026, 12, 14), ENGLAND)
    assert _deadline(late, 3, "escalate-to-stage-4").status is StageStatus.MISSED
    resolved = evaluate(glos, entered + [CaseResolved(local(2026, 12, 4, 9))], local(2026, 12, 14), ENGLAND)
    assert resolved.recorded[-1].deadlines == ()  # resolved at stage 3: nothing to escalate


def test_sandwell_outcome_within_one_calendar_month_and_letters_within_a_further_2_working_days():
    """GIVEN Sandwell resolved at stage 4 on Wed 9 Dec 2026, or at stage 2 on Thu 24 Dec THEN the outcome
    and learning are due Sat 9 Jan 2027 (one calendar month, not working days) and the outcome letter
    Wed 30 Dec (24 Dec + 2 working days: 25 and 28 Dec are bank holidays, 29 (1), 30 (2)); once past,
    the case file cannot see them done: not-recorded."""
    sandwell = default_registry().get("sandwell")
    at_4 = [StageEntered(4, local(2026, 12, 1, 10)), CaseResolved(local(2026, 12, 9, 15))]
    month = _deadline(evaluate(sandwell, at_4, local(2026, 12, 10), ENGLAND), 4, "outcome-and-learning")
    assert (month.due, month.basis, month.status) == (local(2027, 1, 9, 23, 59, 59), "1 calendar month", StageStatus.ON_TIME)
    assert evaluate(sandwell, at_4, local(2026, 12, 10), ENGLAND).next_action == (
        "None: resolved on 09 December 2026. Also: the outcome and any learning disseminated to all parties by "
        "Sat 09 Jan 2027 23:59 (1 calendar month).")
    assert _deadline(evaluate(sandwell, at_4, local(2027, 1, 10), ENGLAND), 4, "outcome-and-learning").status is (
        StageStatus.NOT_RECORDED)
    at_2 = [StageEntered(2, local(2026, 12, 21, 10)), CaseResolved(local(2026, 12, 24, 11))]
    letter = _deadline(evaluate(sandwell, at_2, local(2026, 12, 24, 12), ENGLAND), 2, "outcome-letter")
    assert letter.due == local(2026, 12, 30, 23, 59, 59)


def test_a_deadline_counted_from_the_resolution_recorded_done_reads_met_or_missed():
    """GIVEN Sandwell resolved at stage 2 on Thu 24 Dec 2026, the outcome letter due Wed 30 Dec WHEN a person
    records it done on Tue 29 Dec THEN it reads met with that moment, and stays met once its time has passed;
    WHEN recorded done on Thu 31 Dec THEN missed; WHEN the only record is dated before the resolution's day
    (it belonged to an earlier resolution of a re-opened case) THEN it is not read: not-recorded once past."""
    sandwell = default_registry().get("sandwell")
    at_2 = [StageEntered(2, local(2026, 12, 21, 10)), CaseResolved(local(2026, 12, 24, 11))]
    on_time = [*at_2, DeadlineMet("outcome-letter", local(2026, 12, 29, 15))]
    for now in (local(2026, 12, 29, 16), local(2027, 1, 4, 9)):
        letter = _deadline(evaluate(sandwell, on_time, now, ENGLAND), 2, "outcome-letter")
        assert (letter.status, letter.done) == (StageStatus.MET, local(2026, 12, 29, 15))
    late = [*at_2, DeadlineMet("outcome-letter", local(2026, 12, 31, 9))]
    assert _deadline(evaluate(sandwell, late, local(2027, 1, 4, 9), ENGLAND), 2, "outcome-letter").status is (
        StageStatus.MISSED)
    earlier = [*at_2, DeadlineMet("outcome-letter", local(2026, 12, 23, 9))]
    letter = _deadline(evaluate(sandwell, earlier, local(2027, 1, 4, 9), ENGLAND), 2, "outcome-letter")
    assert (letter.status, letter.done) == (StageStatus.NOT_RECORDED, None)
    resolved = evaluate(sandwell, on_time, local(2026, 12, 29, 16), ENGLAND)
    assert resolved.resolved == local(2026, 12, 24, 11)  # a deadline recorded done does not move the clock
    assert [d.name for d in resolved.resolution_deadlines] == ["outcome-letter"]


def test_sandwell_imminent_risk_referral_the_same_working_day_only_when_the_fact_is_set():
    """GIVEN Sandwell stage 1 entered Sat 5 Dec 2026 THEN with imminent-risk set the MARF/MASH referral is
    due by the end of the next working day, Mon 7 Dec; without it there is no such deadline."""
    sandwell = default_registry().get("sandwell")
    events = [StageEntered(1, local(2026, 12, 5, 10))]
    risk = evaluate(sandwell, events, local(2026, 12, 5, 11), ENGLAND, conditions={"imminent-risk": True})
    assert _deadline(risk, 1, "imminent-risk-referral").due == local(2026, 12, 7, 23, 59, 59)
    plain = evaluate(sandwell, events, local(2026, 12, 5, 11), ENGLAND)
    assert plain.recorded[-1].deadlines == ()
