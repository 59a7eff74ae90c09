"""A running stage's own deadline kept outside the case file, recorded done by the business unit:
Sandwell's MARF completed and the case referred to MASH "on the same working day" where a child is
at imminent risk (§4 Note). Real SMTP (aiosmtpd) and the case file on SQLite and PostgreSQL (``store``).

The case: Sandwell stage 1 raised Sat 5 Dec 2026 10:00 with the child at imminent risk. Day 0 is
not a working day, so the referral is due the next one, Mon 7 Dec (23:59:59); its reminder is owed
from 09:00 that Monday, its overdue alert in the next working hours after, Tue 8 Dec 09:00.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from resdesk.cases import Event, Outbound, case_timeline, record_deadline_met, set_fact, withdraw_deadline_met
from resdesk.errors import UsageError
from resdesk.outbox.dispatch import run_tick
from resdesk.protocols import WorkingCalendar
from tests.render.casefile import REGISTRY, local, sender_for, settings_for

RAISED = local(2026, 12, 5, 10, 0)
DUE = "2026-12-07T23:59:59+00:00"
SANDWELL = REGISTRY.get("sandwell")
REFERRAL = "imminent-risk-referral"


def _calendar(protocol):
    return WorkingCalendar(protocol.nation)


def _at_stage_1_with_imminent_risk(store) -> str:
    with store.transaction() as tx:
        case = tx.create_case(SANDWELL, RAISED, child_name="Ada Lovelace")
        tx.add_party(case, name="Rae Moss", email="rae.moss@school.example", agency="Education")
        set_fact(tx, case, "imminent_risk", True, by="dana", reason="the summary says so", at=RAISED)
        tx.record_stage_summary(case, SANDWELL, 1, "actions-agreed", RAISED)
        return case.ref


def _referral(store, ref, now, stage: int = 1) -> dict:
    case = case_timeline(store, ref, REGISTRY, now)
    (row,) = [row for row in case["clock"] if row["stage"] == stage]
    (referral,) = [d for d in row["deadlines"] if d["name"] == REFERRAL]
    return referral


def _settled(store, smtp_server, tmp_path) -> tuple[str, object]:
    """The case at stage 1, and the notices its start owes sent. Returns (ref, settings)."""
    ref = _at_stage_1_with_imminent_risk(store)
    settings = settings_for(tmp_path, smtp_server)
    run_tick(store, settings, REGISTRY, RAISED + timedelta(minutes=1), sender_for(smtp_server))
    smtp_server.clear()
    return ref, settings


def test_a_referral_recorded_made_supersedes_its_queued_overdue_alert_and_reads_met(store, smtp_server, tmp_path):
    """GIVEN the referral's overdue alerts of Tue 8 Dec waiting in the outbox after a temporary SMTP failure
    WHEN the business unit records the referral made on Mon 7 Dec 15:00 THEN the retry sends neither alert
    (both superseded, naming who recorded it), the clock reads it met with its time, the event and the audit
    chain name who and why, and recording it again is refused."""
    ref, settings = _settled(store, smtp_server, tmp_path)
    assert _referral(store, ref, local(2026, 12, 7, 10, 0))["status"] == "due-today"
    smtp_server.fail_next(10)
    tuesday = run_tick(store, settings, REGISTRY, local(2026, 12, 8, 9, 5), sender_for(smtp_server))
    deferred = sorted(d["key"] for d in tuesday.deferred)
    assert f"overdue:{ref}:1:{REFERRAL}:{DUE}" in deferred
    smtp_server.clear()
    made = local(2026, 12, 7, 15, 0)
    with store.transaction() as tx:
        met = record_deadline_met(tx, REGISTRY, ref, REFERRAL, local(2026, 12, 8, 9, 10), actor="dana",
                                  reason="MASH confirmed the referral by phone", calendar_for=_calendar, done=made)
    assert (met.status.value, met.done) == ("met", made)
    retry = run_tick(store, settings, REGISTRY, local(2026, 12, 8, 9, 20), sender_for(smtp_server))
    with store.transaction() as tx:
        rows = tx.session.execute(select(Outbound.state, Outbound.last_error).where(
            Outbound.idempotency_key.startswith(f"overdue:{ref}:1:{REFERRAL}:"))).all()
    assert len(rows) == 2 and {state for state, _ in rows} == {"superseded"}
    assert all("dana recorded a MARF completed and the case referred to MASH done" in reason for _, reason in rows)
    assert not [s for s in retry.sent if REFERRAL in s["key"]]
    assert not [m for m in smtp_server.messages if "MARF" in m["Subject"]]
    referral = _referral(store, ref, local(2026, 12, 8, 9, 20))
    assert (referral["status"], referral["done"]) == ("met", "2026-12-07T15:00:00+00:00")
    case = case_timeline(store, ref, REGISTRY, local(2026, 12, 8, 9, 20))
    (event,) = [e for e in case["events"] if e["kind"] == "deadline-met"]
    assert (event["stage"], event["detail"]["by"], event["detail"]["status"]) == (1, "dana", "met")
    assert [a["actor"] for a in case["audit"] if a["action"] == "deadline-met"] == ["dana"]
    with store.transaction() as tx:
        with pytest.raises(UsageError, match="already recorded done on Mon 07 Dec 2026 15:00"):
            record_deadline_met(tx, REGISTRY, ref, REFERRAL, local(2026, 12, 8, 10, 0), actor="dana",
                                reason="again", calendar_for=_calendar)


def test_a_referral_recorded_before_its_reminder_is_neither_reminded_nor_alerted(store, smtp_server, tmp_path):
    """GIVEN the case at stage 1 WHEN the business unit records the referral made on Sat 5 Dec 16:00 THEN the
    Monday and Tuesday ticks send no reminder or alert of it; a time before the stage's day is refused."""
    ref, settings = _settled(store, smtp_server, tmp_path)
    with store.transaction() as tx:
        with pytest.raises(UsageError, match="entered stage 1 on 05 December 2026"):
            record_deadline_met(tx, REGISTRY, ref, REFERRAL, local(2026, 12, 5, 17, 0), actor="dana",
                                reason="made", calendar_for=_calendar, done=local(2026, 12, 4, 12, 0))
        record_deadline_met(tx, REGISTRY, ref, REFERRAL, local(2026, 12, 5, 17, 0), actor="dana",
                            reason="made", calendar_for=_calendar, done=local(2026, 12, 5, 16, 0))
    for moment in (local(2026, 12, 7, 9, 30), local(2026, 12, 8, 9, 30)):
        report = run_tick(store, settings, REGISTRY, moment, sender_for(smtp_server))
        assert not [s for s in report.sent + report.queued if REFERRAL in s["key"]]
    assert not [m for m in smtp_server.messages if "MARF" in m["Subject"]]


def test_a_past_stage_s_referral_nobody_recorded_can_be_recorded_late(store, smtp_server, tmp_path):
    """GIVEN the case escalated to stage 2 on Wed 9 Dec with the referral never recorded (it reads
    not-recorded) WHEN the business unit records it made on Tue 8 Dec THEN stage 1's referral reads missed,
    done then, while the case runs on at stage 2."""
    ref, _ = _settled(store, smtp_server, tmp_path)
    with store.transaction() as tx:
        tx.record_stage_summary(tx.require_case(ref), SANDWELL, 2, "actions-agreed", local(2026, 12, 9, 11, 0))
    assert _referral(store, ref, local(2026, 12, 10, 9, 0))["status"] == "not-recorded"
    with store.transaction() as tx:
        late = record_deadline_met(tx, REGISTRY, ref, REFERRAL, local(2026, 12, 10, 9, 0), actor="dana",
                                   reason="found the MARF", calendar_for=_calendar, done=local(2026, 12, 8, 12, 0))
    assert (late.status.value, late.done) == ("missed", local(2026, 12, 8, 12, 0))
    referral = _referral(store, ref, local(2026, 12, 10, 9, 5))
    assert (referral["status"], referral["done"]) == ("missed", "2026-12-08T12:00:00+00:00")
    assert case_timeline(store, ref, REGISTRY, local(2026, 12, 10, 9, 5))["stage"] == 2


def test_a_record_made_in_error_is_withdrawn_and_the_deadline_is_reminded_and_alerted_again(store, smtp_server,
                                                                                         tmp_path):
    """GIVEN the referral recorded made on Sat 5 Dec 16:00 WHEN the business unit withdraws that record on Mon
    7 Dec 09:00 (it was another child's) THEN the clock reads it due today with nothing done, the Monday tick
    reminds and the Tuesday tick alerts, the withdrawal names who and why and the record it withdrew; it can be
    recorded again; withdrawing with no reason, or a deadline with no standing record, is refused."""
    ref, settings = _settled(store, smtp_server, tmp_path)
    with store.transaction() as tx:
        record_deadline_met(tx, REGISTRY, ref, REFERRAL, local(2026, 12, 5, 17, 0), actor="dana",
                            reason="made", calendar_for=_calendar, done=local(2026, 12, 5, 16, 0))
    with store.transaction() as tx:
        for name, reason, refusal in ((REFERRAL, " ", "needs a reason"),
                                      ("outcome-letter", "wrong", r"no record of a deadline 'outcome-letter' done "
                                                                   r"to withdraw \(recorded done: imminent-risk-referral\)")):
            with pytest.raises(UsageError, match=refusal):
                withdraw_deadline_met(tx, REGISTRY, ref, name, local(2026, 12, 7, 9, 0), actor="sam", reason=reason,
                                      calendar_for=_calendar)
        now_reads = withdraw_deadline_met(tx, REGISTRY, ref, REFERRAL, local(2026, 12, 7, 9, 0), actor="sam",
                                          reason="recorded on the wrong case", calendar_for=_calendar)
    assert (now_reads.status.value, now_reads.done) == ("due-today", None)
    monday = run_tick(store, settings, REGISTRY, local(2026, 12, 7, 9, 30), sender_for(smtp_server))
    assert f"reminder:{ref}:1:{REFERRAL}:{DUE}" in [s["key"] for s in monday.sent]
    tuesday = run_tick(store, settings, REGISTRY, local(2026, 12, 8, 9, 5), sender_for(smtp_server))
    assert f"overdue:{ref}:1:{REFERRAL}:{DUE}" in [s["key"] for s in tuesday.sent]
    case = case_timeline(store, ref, REGISTRY, local(2026, 12, 8, 9, 10))
    (withdrawal,) = [e for e in case["events"] if e["kind"] == "deadline-met-withdrawn"]
    assert (withdrawal["detail"]["by"], withdrawal["detail"]["reason"], withdrawal["detail"]["recorded_by"]) == (
        "sam", "recorded on the wrong case", "dana")
    with store.transaction() as tx:
        recorded = tx.session.execute(select(Event.id).where(Event.kind == "deadline-met")).scalar_one()
    assert withdrawal["detail"]["withdraws"] == recorded
    assert [a["actor"] for a in case["audit"] if a["action"] == "deadline-met-withdrawn"] == ["sam"]
    assert _referral(store, ref, local(2026, 12, 8, 9, 10))["status"] == "overdue"
    with store.transaction() as tx:
        again = record_deadline_met(tx, REGISTRY, ref, REFERRAL, local(2026, 12, 8, 9, 20), actor="sam",
                                    reason="made this morning", calendar_for=_calendar)
    assert again.status.value == "missed"
