"""A resolved case's deadlines counted from the resolution (Sandwell's outcome letter "within a further
2 working days", Appendix 2): reminded and alerted by the stage deadlines' rule, until the business unit
records them done. Real SMTP (aiosmtpd) and the case file on SQLite and PostgreSQL (``store``).

The case: Sandwell, resolved at stage 2 on Wed 9 Dec 2026 11:00. Day 0 is Wed 9 Dec: Thu 10 (1),
Fri 11 (2), so the letter is due Fri 11 Dec 23:59:59; its reminder is owed from 09:00 that Friday
(its last working day), its overdue alert in the next working hours after, Mon 14 Dec 09:00.
"""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import select

from resdesk.cases import Case, Outbound, case_timeline, record_deadline_met
from resdesk.errors import UsageError
from resdesk.outbox.dispatch import run_tick
from resdesk.outbox.due import next_due
from resdesk.protocols import WorkingCalendar
from resdesk.render.snapshot import snapshot_of
from tests.render.casefile import BUSINESS_UNIT, REGISTRY, local, sender_for, settings_for

RESOLVED_AT = local(2026, 12, 9, 11, 0)
DUE = "2026-12-11T23:59:59+00:00"
AGENCY = "rae.moss@school.example"
AGENCY_SLUG = "rae-moss-school-example"
SANDWELL = REGISTRY.get("sandwell")


def _calendar(protocol):
    return WorkingCalendar(protocol.nation)


def _resolved_at_stage_2(store) -> str:
    with store.transaction() as tx:
        case = tx.create_case(SANDWELL, RESOLVED_AT - timedelta(days=8), child_name="Ada Lovelace")
        tx.add_party(case, name="Rae Moss", email=AGENCY, agency="Education")
        tx.record_stage_summary(case, SANDWELL, 1, "escalated", RESOLVED_AT - timedelta(days=2))
        tx.record_stage_summary(case, SANDWELL, 2, "resolved", RESOLVED_AT)
        return case.ref


def _keys(report, kind: str) -> list[str]:
    return sorted(entry["key"] for entry in report.sent if entry["kind"] == kind)


def _stored_next_due(store, ref):
    with store.transaction() as tx:
        return tx.session.execute(select(Case.next_due).where(Case.ref == ref)).scalar_one()


def _computed_next_due(store, ref, now):
    with store.transaction() as tx:
        return next_due(snapshot_of(tx.require_case(ref)), SANDWELL, _calendar(SANDWELL), now)


def _letter(ref) -> dict:
    return {"reminder": f"reminder:{ref}:2:outcome-letter:{DUE}", "overdue": f"overdue:{ref}:2:outcome-letter:{DUE}"}


def _outcome_letter(store, ref, now) -> dict:
    case = case_timeline(store, ref, REGISTRY, now)
    (stage_2,) = [row for row in case["clock"] if row["stage"] == 2]
    (letter,) = [d for d in stage_2["deadlines"] if d["name"] == "outcome-letter"]
    return letter


def _settled_after_resolution(store, smtp_server, tmp_path) -> tuple[str, object]:
    """The case resolved, and the notices the resolution owes sent. Returns (ref, settings)."""
    ref = _resolved_at_stage_2(store)
    settings = settings_for(tmp_path, smtp_server)
    run_tick(store, settings, REGISTRY, RESOLVED_AT + timedelta(minutes=1), sender_for(smtp_server))
    run_tick(store, settings, REGISTRY, RESOLVED_AT + timedelta(minutes=2), sender_for(smtp_server))
    smtp_server.clear()
    return ref, settings


def test_the_outcome_letter_is_reminded_on_its_last_working_day_then_alerted_once_passed(store, smtp_server, tmp_path):
    """GIVEN a Sandwell case resolved at stage 2 on Wed 9 Dec, the outcome letter due Fri 11 Dec
    WHEN the tick runs on Thu 10 Dec THEN nothing is sent and the case is next due Fri 11 Dec 09:00;
    WHEN it runs then THEN the letter's reminder goes to the business unit and the agency, and the case
    is next due Mon 14 Dec 09:00; WHEN it runs then THEN the overdue alert goes to both, the letter
    reads not-recorded, and nothing further is owed (next due none)."""
    ref, settings = _settled_after_resolution(store, smtp_server, tmp_path)
    letter = _letter(ref)
    thursday = run_tick(store, settings, REGISTRY, local(2026, 12, 10, 10, 0), sender_for(smtp_server))
    assert thursday.sent == []
    assert _stored_next_due(store, ref) == local(2026, 12, 11, 9, 0)

    friday = run_tick(store, settings, REGISTRY, local(2026, 12, 11, 9, 0), sender_for(smtp_server))
    assert _keys(friday, "reminder") == [letter["reminder"], f"{letter['reminder']}:party:{AGENCY_SLUG}"]
    assert sorted(tuple(e["recipients"]) for e in friday.sent) == [(BUSINESS_UNIT,), (AGENCY,)]
    (subject,) = {e["subject"] for e in friday.sent}
    assert subject.startswith("Reminder after the resolution: the receiving agency's letter to the complainant agency")
    message = email.message_from_bytes(smtp_server.messages[0].raw, policy=policy.default)
    body = " ".join(message.get_body(("plain",)).get_content().split())
    assert ("case SAN-2026-0001 was resolved at stage 2 (Heads of Service/Senior Managers) on Wednesday 9 December "
            "2026") in body and "is due Friday 11 December 2026" in body
    run_tick(store, settings, REGISTRY, local(2026, 12, 11, 9, 1), sender_for(smtp_server))  # files what was sent
    assert _stored_next_due(store, ref) == local(2026, 12, 14, 9, 0)  # Sat 12, Sun 13 have no working hours

    assert run_tick(store, settings, REGISTRY, local(2026, 12, 12, 10, 0), sender_for(smtp_server)).sent == []
    monday = run_tick(store, settings, REGISTRY, local(2026, 12, 14, 9, 0), sender_for(smtp_server))
    assert _keys(monday, "overdue") == [letter["overdue"], f"{letter['overdue']}:party:{AGENCY_SLUG}"]
    assert _outcome_letter(store, ref, local(2026, 12, 14, 9, 5))["status"] == "not-recorded"
    run_tick(store, settings, REGISTRY, local(2026, 12, 14, 9, 1), sender_for(smtp_server))
    assert _computed_next_due(store, ref, local(2026, 12, 14, 9, 2)) is None


def test_recording_the_letter_sent_stops_its_overdue_alert_and_reads_met(store, smtp_server, tmp_path):
    """GIVEN the case reminded of its outcome letter on Fri 11 Dec WHEN the business unit records the letter
    sent that Friday at 14:00 THEN the clock reads it met (done at that moment), the record names who and
    why in the event and the audit chain, nothing further is due for the case, and the Monday tick sends
    no overdue alert; recording it again is refused."""
    ref, settings = _settled_after_resolution(store, smtp_server, tmp_path)
    run_tick(store, settings, REGISTRY, local(2026, 12, 11, 9, 30), sender_for(smtp_server))
    run_tick(store, settings, REGISTRY, local(2026, 12, 11, 9, 31), sender_for(smtp_server))
    sent_at = local(2026, 12, 11, 14, 0)
    with store.transaction() as tx:
        met = record_deadline_met(tx, REGISTRY, ref, "outcome-letter", sent_at, actor="dana",
                                  reason="the school copied us into its letter", calendar_for=_calendar)
    assert (met.status.value, met.done) == ("met", sent_at)
    letter = _outcome_letter(store, ref, local(2026, 12, 14, 9, 5))
    assert (letter["status"], letter["done"]) == ("met", "2026-12-11T14:00:00+00:00")
    case = case_timeline(store, ref, REGISTRY, local(2026, 12, 14, 9, 5))
    (event,) = [e for e in case["events"] if e["kind"] == "deadline-met"]
    assert (event["detail"]["by"], event["detail"]["reason"], event["detail"]["status"]) == (
        "dana", "the school copied us into its letter", "met")
    assert [a["actor"] for a in case["audit"] if a["action"] == "deadline-met"] == ["dana"]

    run_tick(store, settings, REGISTRY, local(2026, 12, 11, 14, 1), sender_for(smtp_server))
    assert _stored_next_due(store, ref) is None
    monday = run_tick(store, settings, REGISTRY, local(2026, 12, 14, 9, 0), sender_for(smtp_server))
    assert monday.sent == [] and monday.queued == []
    with store.transaction() as tx:
        with pytest.raises(UsageError, match="already recorded done on Fri 11 Dec 2026 14:00"):
            record_deadline_met(tx, REGISTRY, ref, "outcome-letter", local(2026, 12, 14, 10, 0), actor="dana",
                                reason="again", calendar_for=_calendar)


def test_a_letter_recorded_sent_before_its_reminder_is_neither_reminded_nor_alerted(store, smtp_server, tmp_path):
    """GIVEN the case resolved Wed 9 Dec WHEN the business unit records the outcome letter sent on Thu 10 Dec
    THEN nothing further is due for the case, and the ticks of Fri 11 Dec and Mon 14 Dec send nothing."""
    ref, settings = _settled_after_resolution(store, smtp_server, tmp_path)
    with store.transaction() as tx:
        record_deadline_met(tx, REGISTRY, ref, "outcome-letter", local(2026, 12, 10, 10, 0), actor="dana",
                            reason="letter copied to us", calendar_for=_calendar)
    assert run_tick(store, settings, REGISTRY, local(2026, 12, 10, 10, 1), sender_for(smtp_server)).sent == []
    assert _stored_next_due(store, ref) is None
    for moment in (local(2026, 12, 11, 9, 30), local(2026, 12, 14, 9, 30)):
        report = run_tick(store, settings, REGISTRY, moment, sender_for(smtp_server))
        assert report.sent == [] and report.queued == []
    assert smtp_server.messages == []


def test_a_letter_recorded_sent_after_its_time_reads_missed(store, smtp_server, tmp_path):
    """GIVEN the case past its outcome letter's time (alerted Mon 14 Dec) WHEN the business unit records it
    sent on Mon 14 Dec THEN it reads missed; a date before the resolution's day is refused."""
    ref, settings = _settled_after_resolution(store, smtp_server, tmp_path)
    run_tick(store, settings, REGISTRY, local(2026, 12, 14, 9, 30), sender_for(smtp_server))
    with store.transaction() as tx:
        with pytest.raises(UsageError, match="resolved on 09 December 2026"):
            record_deadline_met(tx, REGISTRY, ref, "outcome-letter", local(2026, 12, 14, 10, 0), actor="dana",
                                reason="letter seen", done=local(2026, 12, 8), calendar_for=_calendar)
        met = record_deadline_met(tx, REGISTRY, ref, "outcome-letter", local(2026, 12, 14, 10, 0), actor="dana",
                                  reason="letter seen", done=local(2026, 12, 14), calendar_for=_calendar)
    assert met.status.value == "missed"
    assert _outcome_letter(store, ref, local(2026, 12, 14, 10, 5))["status"] == "missed"


def test_a_queued_reminder_of_a_letter_recorded_sent_is_superseded(store, smtp_server, tmp_path):
    """GIVEN the outcome letter's reminders of Fri 11 Dec waiting in the outbox after a temporary SMTP
    failure WHEN the business unit records the letter sent before the retry THEN the retry sends neither:
    both rows read superseded, naming who recorded it done."""
    ref, settings = _settled_after_resolution(store, smtp_server, tmp_path)
    smtp_server.fail_next(10)
    friday = run_tick(store, settings, REGISTRY, local(2026, 12, 11, 9, 30), sender_for(smtp_server))
    assert len([d for d in friday.deferred if d["key"].startswith("reminder:")]) == 2
    smtp_server.clear()
    with store.transaction() as tx:
        record_deadline_met(tx, REGISTRY, ref, "outcome-letter", local(2026, 12, 11, 9, 40), actor="dana",
                            reason="letter sent this morning", calendar_for=_calendar)
    retry = run_tick(store, settings, REGISTRY, local(2026, 12, 11, 9, 50), sender_for(smtp_server))
    with store.transaction() as tx:
        rows = tx.session.execute(select(Outbound.state, Outbound.last_error).where(
            Outbound.idempotency_key.startswith("reminder:"))).all()
    assert len(rows) == 2 and {state for state, _ in rows} == {"superseded"}
    assert all("dana recorded the receiving agency's letter" in reason for _, reason in rows)
    assert len(retry.superseded) == 2 and retry.sent == []
    assert smtp_server.messages == []


def test_only_a_deadline_the_case_has_to_record_can_be_recorded(store):
    """GIVEN a case still open at stage 1 (no child at imminent risk), and a resolved one WHEN the outcome
    letter is recorded done on the open case, or a name the resolved case does not have THEN each is refused,
    saying why (the deadlines the case has to record named, none for the open case), and nothing is recorded;
    with no reason it is refused too."""
    ref = _resolved_at_stage_2(store)
    with store.transaction() as tx:
        open_case = tx.create_case(SANDWELL, RESOLVED_AT)
        tx.record_stage_summary(open_case, SANDWELL, 1, "actions-agreed", RESOLVED_AT)
        open_ref = open_case.ref
    at = local(2026, 12, 10, 10, 0)
    attempts = [
        (open_ref, "outcome-letter", "why", r"no deadline 'outcome-letter' that a person records done \(its deadlines "
                                            r"to record: none now\)\. An outcome letter's deadline counts from the "
                                            r"resolution"),
        (ref, "outcome-leter", "why", r"no deadline 'outcome-leter' that a person records done \(its deadlines "
                                      r"to record: outcome-letter\)"),
        (ref, "outcome-letter", "  ", "needs a reason"),
    ]
    for case_ref, name, reason, refusal in attempts:
        with pytest.raises(UsageError, match=refusal):
            with store.transaction() as tx:
                record_deadline_met(tx, REGISTRY, case_ref, name, at, actor="dana", reason=reason,
                                    calendar_for=_calendar)
    assert _outcome_letter(store, ref, at)["status"] == "on-time"
    assert [e for e in case_timeline(store, ref, REGISTRY, at)["events"] if e["kind"] == "deadline-met"] == []
