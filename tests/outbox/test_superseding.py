"""A stage notice already in the outbox, waiting to be retried, against a real SMTP server (aiosmtpd)
and a real SQLite case file: the case moving past its stage supersedes it; nothing else does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from resdesk.cases import Outbound, open_store, verify_chain
from resdesk.cases.models import AuditEntry
from resdesk.outbox.dispatch import run_tick
from tests.render.casefile import (
    BUSINESS_UNIT,
    PRACTITIONER,
    REGISTRY,
    local,
    oldham_stage2_escalated,
    sender_for,
    settings_for,
)

SUMMARY_AT = local(2026, 12, 23, 10, 0)  # Wed: the stage 2 summary escalates the case to stage 3
NOW = SUMMARY_AT + timedelta(seconds=3)
RETRY = NOW + timedelta(minutes=10)  # well past the first backoff (30 s)
STAGE3_TITLE = "Notification of Escalation progressing to stage 3"


@pytest.fixture
def store(tmp_path):
    opened = open_store(f"sqlite:///{tmp_path / 'resdesk.sqlite3'}", tmp_path / "archive")
    yield opened
    opened.close()


def _stage3_key(ref: str) -> str:
    return f"notice:{ref}:3:stage-3-notification:oldham-safeguarding-children-partnership-oscp-gr"


def _row(store, key: str) -> Outbound:
    with store.transaction() as tx:
        row = tx.session.execute(select(Outbound).where(Outbound.idempotency_key == key)).scalar_one()
        tx.session.expunge(row)
        return row


def _first_sends_fail(store, smtp_server, tmp_path) -> str:
    """An Oldham case escalated to stage 3 whose acknowledgement and stage 3 notification both met a
    451 at the first tick: both wait in the outbox to be retried. Returns the case's ref."""
    ref = oldham_stage2_escalated(store, at=SUMMARY_AT)
    smtp_server.fail_next(2)
    first = run_tick(store, settings_for(tmp_path, smtp_server), REGISTRY, NOW, sender_for(smtp_server))
    assert first.sent == [] and len(first.deferred) == 2 and smtp_server.messages == []
    assert _row(store, _stage3_key(ref)).state == "pending"
    return ref


def _escalate_to_stage4(store, ref: str, at) -> None:
    with store.transaction() as tx:
        tx.record_stage_summary(tx.require_case(ref), REGISTRY.get("oldham"), 3, "escalated", at,
                                message_id="<stage3@nca.example>")


def test_a_queued_stage_notice_the_case_moved_past_is_superseded_at_its_retry(store, smtp_server, tmp_path):
    """GIVEN a stage 3 notification whose first send met a temporary SMTP failure, and a stage 3 summary
    since recorded that escalates the case to stage 4
    WHEN the tick retries it, and runs again later
    THEN it is never sent: its row reads superseded with the reason (stage 4 recorded Wed 23 Dec 10:05),
    the tick reports it, the audit chain holds one outbound-superseded entry for it, and the stage 4
    Resolution Notice still goes."""
    ref = _first_sends_fail(store, smtp_server, tmp_path)
    _escalate_to_stage4(store, ref, SUMMARY_AT + timedelta(minutes=5))
    settings = settings_for(tmp_path, smtp_server)
    retry = run_tick(store, settings, REGISTRY, RETRY, sender_for(smtp_server))
    key = _stage3_key(ref)
    assert retry.superseded == [{"key": key, "case": ref, "reason": _row(store, key).last_error}]
    row = _row(store, key)
    assert (row.state, row.sent_at, row.next_attempt_at) == ("superseded", None, None)
    assert "moved past stage 3 (stage 4 recorded Wed 23 Dec 2026 10:05)" in row.last_error
    later = run_tick(store, settings, REGISTRY, RETRY + timedelta(hours=2), sender_for(smtp_server))
    assert later.sent == [] and later.superseded == []
    raws = [m.raw for m in smtp_server.messages]
    assert not any(STAGE3_TITLE.encode() in raw for raw in raws)
    assert any(b"Resolution Notice" in raw for raw in raws)
    with store.transaction() as tx:
        entries = tx.session.execute(select(AuditEntry).where(
            AuditEntry.action == "outbound-superseded", AuditEntry.case_ref == ref)).scalars().all()
        assert [e.payload["idempotency_key"] for e in entries] == [key]
        assert entries[0].payload["reason"] == row.last_error
    assert verify_chain(store) == (True, None)


def test_a_queued_stage_notice_of_a_case_still_at_its_stage_is_sent_at_its_retry(store, smtp_server, tmp_path):
    """GIVEN a stage 3 notification whose first send met a temporary SMTP failure, the case still at stage 3
    WHEN the tick retries it
    THEN it is sent once, to the business unit, and nothing is superseded."""
    ref = _first_sends_fail(store, smtp_server, tmp_path)
    retry = run_tick(store, settings_for(tmp_path, smtp_server), REGISTRY, RETRY, sender_for(smtp_server))
    assert retry.superseded == []
    assert _row(store, _stage3_key(ref)).state == "sent"
    to_unit = [m for m in smtp_server.messages if m.rcpt_tos == (BUSINESS_UNIT,)]
    assert len(to_unit) == 1 and STAGE3_TITLE.encode() in to_unit[0].raw


def test_an_acknowledgement_waiting_for_its_retry_is_sent_after_the_case_moves_on(store, smtp_server, tmp_path):
    """GIVEN an acknowledgement of the stage 2 summary whose first send met a temporary SMTP failure, and
    the case since escalated to stage 4
    WHEN the tick retries it
    THEN the acknowledgement goes to the practitioner once: only stage notices are superseded."""
    ref = _first_sends_fail(store, smtp_server, tmp_path)
    _escalate_to_stage4(store, ref, SUMMARY_AT + timedelta(minutes=5))
    retry = run_tick(store, settings_for(tmp_path, smtp_server), REGISTRY, RETRY, sender_for(smtp_server))
    assert [e["key"] for e in retry.superseded] == [_stage3_key(ref)]
    assert [s["kind"] for s in retry.sent if s["recipients"] == [PRACTITIONER]] == ["acknowledgement"]
    assert [m.rcpt_tos for m in smtp_server.messages].count((PRACTITIONER,)) == 1


def test_an_outcome_notice_waiting_for_its_retry_is_sent_though_the_case_is_resolved(store, smtp_server, tmp_path):
    """GIVEN an Oldham case at stage 4 whose resolution was recorded afterwards, and the outcome notice that
    resolution owes (on-resolution) met a temporary SMTP failure at its first send
    WHEN the tick retries it
    THEN it is sent: a notice owed by the resolution is not superseded by it."""
    ref = oldham_stage2_escalated(store, at=SUMMARY_AT)
    _escalate_to_stage4(store, ref, SUMMARY_AT + timedelta(minutes=5))
    settings = settings_for(tmp_path, smtp_server)
    run_tick(store, settings, REGISTRY, SUMMARY_AT + timedelta(minutes=6), sender_for(smtp_server))
    with store.transaction() as tx:
        tx.record_stage_summary(tx.require_case(ref), REGISTRY.get("oldham"), 4, "resolved",
                                SUMMARY_AT + timedelta(hours=1), message_id="<stage4@nca.example>")
    smtp_server.clear()
    smtp_server.fail_next(10)
    at = SUMMARY_AT + timedelta(hours=1, minutes=1)
    failed = run_tick(store, settings, REGISTRY, at, sender_for(smtp_server))
    outcome = [d["key"] for d in failed.deferred if ":4:outcome-notice:" in d["key"]]
    assert outcome and failed.sent == []
    smtp_server.clear()
    retry = run_tick(store, settings, REGISTRY, at + timedelta(minutes=10), sender_for(smtp_server))
    assert retry.superseded == []
    assert set(outcome) <= {s["key"] for s in retry.sent}
    assert all(_row(store, key).state == "sent" for key in outcome)


def test_a_notice_a_person_resends_after_the_case_moved_on_is_sent(store, smtp_server, tmp_path):
    """GIVEN a stage 3 notification that was sent, and the case since escalated to stage 4
    WHEN the business unit resends it (``resdesk act resend``) and the tick runs
    THEN it goes again, as the person asked: a notice sent before is theirs to decide, never superseded."""
    from resdesk.outbox.corrections import resend

    ref = oldham_stage2_escalated(store, at=SUMMARY_AT)
    settings = settings_for(tmp_path, smtp_server)
    run_tick(store, settings, REGISTRY, NOW, sender_for(smtp_server))
    key = _stage3_key(ref)
    assert _row(store, key).state == "sent"
    _escalate_to_stage4(store, ref, SUMMARY_AT + timedelta(minutes=5))
    smtp_server.clear()
    message_id = _row(store, key).message_id
    with store.transaction() as tx:
        resend(tx, message_id, RETRY, actor="bu", reason="the OSCP did not receive it")
    again = run_tick(store, settings, REGISTRY, RETRY + timedelta(minutes=1), sender_for(smtp_server))
    assert again.superseded == []
    assert _row(store, key).state == "sent"
    assert any(STAGE3_TITLE.encode() in m.raw for m in smtp_server.messages)


def test_a_reminder_waiting_for_its_retry_is_superseded_once_the_case_moves_on(store, smtp_server, tmp_path):
    """GIVEN an Oldham case at stage 3, due Tue 29 Dec, whose reminders of that morning met a temporary SMTP
    failure WHEN the case is escalated to stage 4 before the retry THEN the retry sends neither reminder (to
    the business unit and the practitioner): their rows read superseded, saying the case moved on;
    GIVEN the same without the escalation THEN the retry sends them."""
    settings = settings_for(tmp_path, smtp_server)

    def reminders_deferred(case_store) -> str:
        ref = oldham_stage2_escalated(case_store, at=SUMMARY_AT)
        run_tick(case_store, settings, REGISTRY, NOW, sender_for(smtp_server))  # acknowledgement, stage 3 notice
        smtp_server.fail_next(10)
        due_day = run_tick(case_store, settings, REGISTRY, local(2026, 12, 29, 11, 0), sender_for(smtp_server))
        assert len([d for d in due_day.deferred if d["key"].startswith("reminder:")]) == 2
        smtp_server.clear()
        return ref

    def reminder_rows(case_store) -> list[Outbound]:
        with case_store.transaction() as tx:
            rows = tx.session.execute(select(Outbound).where(Outbound.idempotency_key.startswith("reminder:"))).scalars().all()
            tx.session.expunge_all()
            return rows

    ref = reminders_deferred(store)
    _escalate_to_stage4(store, ref, local(2026, 12, 29, 11, 30))
    retry = run_tick(store, settings, REGISTRY, local(2026, 12, 29, 11, 45), sender_for(smtp_server))
    rows = reminder_rows(store)
    assert {r.state for r in rows} == {"superseded"} and len(rows) == 2
    assert all("moved on (stage 4 recorded" in r.last_error for r in rows)
    assert sorted(e["key"] for e in retry.superseded) == sorted(r.idempotency_key for r in rows)
    assert not any(b"Reminder: stage 3" in m.raw for m in smtp_server.messages)

    control = open_store(f"sqlite:///{tmp_path / 'control.sqlite3'}", tmp_path / "control-archive")
    try:
        reminders_deferred(control)
        again = run_tick(control, settings, REGISTRY, local(2026, 12, 29, 11, 45), sender_for(smtp_server))
        assert again.superseded == []
        assert {r.state for r in reminder_rows(control)} == {"sent"}
    finally:
        control.close()
