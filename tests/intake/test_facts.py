"""Reading case facts from a message: typed lines, form fields, prose mentions, sender domains."""

from __future__ import annotations

from datetime import datetime

from resdesk.intake.facts import agency_of, read_facts
from resdesk.protocols import LOCAL


def test_typed_lines_state_facts_and_quoted_mail_is_not_read():
    """GIVEN a body with typed fact lines (any case, UK dates, a time) above a quoted earlier message
    WHEN read THEN each line sets its fact with the line as its source, and the quoted lines set nothing."""
    body = (
        "Hello,\n\nDATE CONCERN RAISED: 23/11/2026\nThreshold dispute: Yes\nUrgent: no\n"
        "Stage 2 started: 30/11/2026 10:15\n\n> Imminent risk: yes\n> Children's Trust involved: yes\n"
    )
    readings, mentions = read_facts(body)
    assert {r.name: r.value for r in readings} == {
        "case_start": datetime(2026, 11, 23, tzinfo=LOCAL),
        "threshold-dispute": True,
        "urgent": False,
        "stage_2_start": datetime(2026, 11, 30, 10, 15, tzinfo=LOCAL),
    }
    assert all(r.source == "message" for r in readings) and readings[0].detail == {"line": "DATE CONCERN RAISED: 23/11/2026"}
    assert mentions == []


def test_a_condition_in_prose_is_a_mention_never_a_fact():
    """GIVEN prose that says the child is on a child protection plan WHEN read THEN no fact is set and
    the sentence is returned for a person to confirm; a typed line with an unreadable value is too."""
    readings, mentions = read_facts("The child is on a child protection plan since May.\nUrgent: perhaps\n")
    assert readings == []
    assert [(m.name, m.sentence) for m in mentions] == [
        ("urgent", "Urgent: perhaps"),
        ("child-protection-plan-or-looked-after", "The child is on a child protection plan since May."),
    ]


def test_form_fields_state_facts_a_typed_line_wins():
    """GIVEN an escalation template whose discussion date and agency are filled WHEN read with and
    without a typed 'Date raised:' line THEN the form gives the case start and the raising agency,
    unless the typed line states the case start."""
    form = [("escalation-concern", {"discussion_date": "2026-11-24", "raised_by_agency": "Oakfield Primary"})]
    readings, _ = read_facts("", form)
    assert {(r.name, r.source) for r in readings} == {("case_start", "form"), ("raising_agency", "form")}
    readings, _ = read_facts("Date raised: 20/11/2026", form)
    assert [r.value for r in readings if r.name == "case_start"] == [datetime(2026, 11, 20, tzinfo=LOCAL)]


def test_agency_by_sender_domain_or_parent_domain():
    """GIVEN a map of domains to agencies WHEN addresses are looked up THEN a subdomain takes its parent's
    agency and an unknown domain has none."""
    domains = {"nhs.net": "Health", "police.example": "Police"}
    assert agency_of("a.b@gloucs.nhs.net", domains) == "Health"
    assert agency_of("c@police.example", domains) == "Police"
    assert agency_of("d@school.example", domains) is None and agency_of(None, domains) is None
