"""Recorded mail moves a case along its stages; an unreadable outcome is never guessed."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resdesk.cases import CaseState, after_stage_notification, after_stage_summary, clock_events, outcome_from_text
from resdesk.cases.timeline import NEEDS_REVIEW, STAGE_ENTERED
from resdesk.protocols import CaseResolved, StageEntered

AT = datetime(2026, 6, 2, 14, 5, tzinfo=timezone.utc)
STAGE_1 = CaseState(stage=1, stage_started=datetime(2026, 6, 1, 9, tzinfo=timezone.utc))


@pytest.mark.parametrize(
    "body, outcome",
    [
        ("Outcome: resolved", "resolved"),
        ("Summary of the meeting.\nOUTCOME: Escalated\nThanks", "escalated"),
        ("outcome : actions agreed.", "actions-agreed"),
        ("Outcome: Actions-Agreed", "actions-agreed"),
        ("**Outcome:** resolved", "resolved"),
        ("> Outcome: escalated", "escalated"),
        ("Outcome: resolved\n\n> Outcome: resolved", "resolved"),
        ("Outcome: resolved\n> Outcome: escalated", None),  # disagreeing lines: a person decides
        ("Outcome: we think it is probably resolved", None),
        ("The outcome was resolved.", None),  # not an explicit Outcome: line
        ("Outcome:", None),
        ("", None),
        ("Outcome: not resolved", None),
        ("Outcome: Escalated to stage 3", "escalated"),
        ("Outcome: Resolved - no further action needed", "resolved"),
        ("Outcome: Resolved \u2013 no further action", "resolved"),
        ("Outcome: Actions agreed (see below)", "actions-agreed"),
        ("Outcome: action agreed", "actions-agreed"),
        ("Outcome: resolved and escalated", None),
        ("Outcome: Resolved? Not really", None),
        ("Outcome: resolved, not agreed by police", None),
        ("Outcome: unresolved", None),
        ("Outcome: resolvedly", None),
        ("Outcome: Escalated.\n> Outcome: escalated to stage 2", "escalated"),
        ("Dear all,\r\nOutcome: resolved\r\n\r\nRegards", "resolved"),  # mail bodies end lines with CRLF
        ("Outcome: escalated\rThanks", "escalated"),
    ],
)
def test_outcome_from_text(body, outcome):
    """GIVEN an email body WHEN its outcome is read THEN only an explicit, single-valued Outcome line counts."""
    assert outcome_from_text(body) == outcome


@given(st.text())
def test_outcome_from_text_never_crashes_and_answers_only_known_outcomes(body):
    """GIVEN any text WHEN read THEN the answer is None or one of the three outcomes."""
    assert outcome_from_text(body) in (None, "resolved", "escalated", "actions-agreed")


def test_resolved_summary_closes_the_case(oldham):
    """GIVEN a case at stage 1 WHEN a stage 1 summary says resolved THEN the case is resolved at that time."""
    t = after_stage_summary(oldham, STAGE_1, 1, "resolved", AT)
    assert t.state.status == "resolved" and t.state.resolved_at == AT
    assert [e.kind for e in t.events] == ["resolved"]


def test_escalated_summary_starts_the_next_stage_at_the_message_time(oldham):
    """GIVEN a case at stage 1 WHEN the stage 1 summary says escalated THEN stage 2 starts at that time."""
    t = after_stage_summary(oldham, STAGE_1, 1, "escalated", AT)
    assert (t.state.status, t.state.stage, t.state.stage_started) == ("open", 2, AT)
    assert [(e.kind, e.stage) for e in t.events] == [(STAGE_ENTERED, 2)]


def test_actions_agreed_keeps_the_stage(oldham):
    """GIVEN a case at stage 1 WHEN the summary says actions agreed THEN it stays at stage 1, clock unchanged."""
    t = after_stage_summary(oldham, STAGE_1, 1, "actions agreed", AT)
    assert t.state == STAGE_1 and t.events == ()


def test_unreadable_outcome_flags_the_case_for_review(oldham):
    """GIVEN a case at stage 1 WHEN the summary's outcome cannot be read THEN it needs review, stage unchanged."""
    t = after_stage_summary(oldham, STAGE_1, 1, None, AT)
    assert t.state.status == "needs-review" and t.state.stage == 1
    assert "no outcome" in t.state.review_reason
    assert [e.kind for e in t.events] == [NEEDS_REVIEW]


def test_first_summary_of_a_new_case_enters_its_stage(oldham):
    """GIVEN a new case WHEN a stage 2 summary says escalated THEN stages 2 and 3 are entered in order."""
    t = after_stage_summary(oldham, CaseState(), 2, "escalated", AT)
    assert [(e.kind, e.stage) for e in t.events] == [(STAGE_ENTERED, 2), (STAGE_ENTERED, 3)]
    assert t.state.stage == 3


def test_oldham_stage_3_notification_starts_stage_3(oldham):
    """GIVEN a case at stage 2 WHEN the notification of escalation progressing to stage 3 arrives THEN stage 3 starts."""
    t = after_stage_notification(oldham, CaseState(stage=2, stage_started=AT), 3, AT)
    assert (t.state.stage, t.state.stage_started) == (3, AT)
    assert after_stage_notification(oldham, t.state, 3, AT).events == ()  # a repeat changes nothing


def test_escalating_past_the_last_stage_needs_review(oldham):
    """GIVEN a case at the protocol's last stage WHEN its summary says escalated THEN a person must review it."""
    last = oldham.stage_numbers[-1]
    t = after_stage_summary(oldham, CaseState(stage=last, stage_started=AT), last, "escalated", AT)
    assert t.state.status == "needs-review" and t.state.stage == last


def test_summary_for_a_stage_the_protocol_lacks_needs_review(oldham):
    """GIVEN a case WHEN a summary names a stage the protocol does not have THEN it needs review, nothing else moves."""
    t = after_stage_summary(oldham, STAGE_1, 9, "escalated", AT)
    assert t.state.status == "needs-review" and t.state.stage == 1


def test_clock_events_come_from_stage_and_resolution_events(oldham):
    """GIVEN stored events WHEN converted for the stage clock THEN only stage entries and resolution count."""
    t1 = after_stage_summary(oldham, CaseState(), 1, "escalated", AT)
    t2 = after_stage_summary(oldham, t1.state, 2, "resolved", AT)
    assert clock_events([*t1.events, *t2.events]) == [
        StageEntered(1, AT), StageEntered(2, AT), CaseResolved(AT)
    ]


outcomes = st.sampled_from(["resolved", "escalated", "actions-agreed", None, "maybe"])


@given(st.lists(st.tuples(st.integers(min_value=0, max_value=6), outcomes), max_size=12))
def test_stages_never_go_back_and_resolution_sticks(summaries):
    """GIVEN any sequence of stage summaries WHEN applied in order THEN the stage never decreases, a resolved
    case stays resolved, and every stage the case reaches exists in the protocol."""
    from resdesk.protocols import default_registry

    oldham = default_registry().get("oldham")
    state = CaseState()
    for minute, (stage, outcome) in enumerate(summaries):
        at = AT.replace(minute=minute)
        before = state
        state = after_stage_summary(oldham, state, stage, outcome, at).state
        if before.stage is not None:
            assert state.stage is not None and state.stage >= before.stage
        if before.status == "resolved":
            assert state.status == "resolved" and state.resolved_at == before.resolved_at
        if state.stage is not None:
            assert state.stage in oldham.stage_numbers
