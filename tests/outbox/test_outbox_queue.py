"""The outbox table: written before sending, one row per reason, retried with backoff."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from resdesk.outbox import queue as outbox
from resdesk.cases.models import AuditEntry

NOW = datetime(2026, 4, 14, 10, 30, tzinfo=timezone.utc)


def _enqueue(tx, key="ack:1", message_id="<ack-1@resdesk.example>"):
    return outbox.enqueue(tx, idempotency_key=key, message_id=message_id, kind="acknowledgement",
                          recipients=["sam@school.example"], subject="[OLD-2026-0001] Received", raw=b"raw")


def test_the_same_reason_gives_the_same_row(store):
    """GIVEN an acknowledgement queued for ledger row 1 WHEN queued again THEN the first row comes back, unchanged."""
    with store.transaction() as tx:
        first, created = _enqueue(tx)
        again, created_again = _enqueue(tx, message_id="<other@resdesk.example>")
        assert (created, created_again) == (True, False)
        assert again.id == first.id and again.message_id == "<ack-1@resdesk.example>"
        assert tx.session.query(AuditEntry).filter_by(action="outbound-queued").count() == 1


def test_due_sent_and_failed(store):
    """GIVEN two queued messages WHEN one is sent and the other fails temporarily THEN only the failed one is due
    again, and only after its retry time; a permanent failure is never due."""
    with store.transaction() as tx:
        a, _ = _enqueue(tx, "ack:1", "<a@resdesk.example>")
        b, _ = _enqueue(tx, "ack:2", "<b@resdesk.example>")
        assert [r.idempotency_key for r in outbox.due(tx, NOW)] == ["ack:1", "ack:2"]
        outbox.mark_sent(tx, a, NOW)
        outbox.mark_failed(tx, b, "451 try later", retry_at=NOW + outbox.backoff(1))
        assert outbox.due(tx, NOW) == []
        assert [r.idempotency_key for r in outbox.due(tx, NOW + timedelta(minutes=1))] == ["ack:2"]
        assert [r.idempotency_key for r in outbox.sent_since(tx, NOW - timedelta(hours=1))] == ["ack:1"]
        outbox.mark_failed(tx, b, "550 no such user", retry_at=None)
        assert outbox.due(tx, NOW + timedelta(days=1)) == []
        assert (b.state, b.attempts) == ("failed", 2)


def test_backoff_grows_and_is_capped():
    """GIVEN repeated temporary failures WHEN the next attempt is scheduled THEN the wait doubles up to an hour."""
    waits = [outbox.backoff(n) for n in range(1, 10)]
    assert waits[:3] == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2)]
    assert waits == sorted(waits) and waits[-1] == timedelta(hours=1)
