"""The outbox table's operations: a message is written here before it is sent.

Each outbound message has an idempotency key naming why it exists
(``ack:<ledger id>``, ``notice:<case>:<stage>:<kind>``,
``reminder:<case>:<stage>:<due>``) and a Message-ID fixed when it is written, so
asking twice for the same notice yields the same row, and a sender that crashed
after the SMTP server accepted a message can tell, on restart, which row it was.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import or_, select, update

from resdesk.cases.models import PENDING, SENT, Case, Outbound, SentTo, utcnow
from resdesk.cases.store import Tx

FAILED = "failed"
SUPERSEDED = "superseded"


def enqueue(
    tx: Tx,
    *,
    idempotency_key: str,
    message_id: str,
    kind: str,
    recipients: Sequence[str],
    subject: str,
    raw: bytes | None = None,
    path: str | None = None,
    case: Case | None = None,
    not_before: datetime | None = None,
) -> tuple[Outbound, bool]:
    """Write a message to send; (row, True) if new, (the existing row, False) if the key was used."""
    existing = by_key(tx, idempotency_key)
    if existing is not None:
        return existing, False
    row = Outbound(
        idempotency_key=idempotency_key,
        message_id=message_id,
        kind=kind,
        recipients=list(recipients),
        subject=subject,
        raw=raw,
        path=path,
        case_id=case.id if case is not None else None,
        state=PENDING,
        attempts=0,
        next_attempt_at=not_before,
    )
    tx.session.add(row)
    tx.session.flush()
    tx.audit(
        "resdesk", "outbound-queued", case.ref if case is not None else None,
        {"kind": kind, "message_id": message_id, "idempotency_key": idempotency_key, "recipients": list(recipients)},
    )
    return row, True


def record_superseded(
    tx: Tx, *, idempotency_key: str, case: Case | None, recipients: Sequence[str], subject: str, reason: str
) -> tuple[Outbound, bool]:
    """Record a notice the case moved past before it was sent: an outbox row in state ``superseded``
    with no message (never sent; its key is used, so it is never planned again), and an audit entry.
    (row, True) if new, (the existing row, False) if the key was used."""
    existing = by_key(tx, idempotency_key)
    if existing is not None:
        return existing, False
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    row = Outbound(
        idempotency_key=idempotency_key, message_id=f"<superseded.{digest}@resdesk.invalid>", kind="notice",
        recipients=list(recipients), subject=subject, case_id=case.id if case is not None else None,
        state=SUPERSEDED, attempts=0, last_error=reason,
    )
    tx.session.add(row)
    tx.session.flush()
    _audit_superseded(tx, row, case.ref if case is not None else None, reason)
    return row, True


def mark_superseded(tx: Tx, row: Outbound, reason: str, case_ref: str | None) -> bool:
    """Supersede a queued message (a stage notice, reminder or overdue alert) the case has moved
    past since it was written (``outbox.sending._superseded``): its row goes from pending to
    ``superseded`` (never sent) with the reason and an audit entry. False, and nothing written, if
    the row is no longer pending (another sender took it)."""
    taken = tx.session.execute(
        update(Outbound).where(Outbound.id == row.id, Outbound.state == PENDING)
        .values(state=SUPERSEDED, last_error=reason, next_attempt_at=None)
    ).rowcount == 1
    if taken:
        _audit_superseded(tx, row, case_ref, reason)
    return taken


def _audit_superseded(tx: Tx, row: Outbound, case_ref: str | None, reason: str) -> None:
    tx.audit("resdesk", "outbound-superseded", case_ref,
             {"idempotency_key": row.idempotency_key, "recipients": list(row.recipients), "reason": reason})


def by_key(tx: Tx, idempotency_key: str) -> Outbound | None:
    return tx.session.execute(select(Outbound).where(Outbound.idempotency_key == idempotency_key)).scalar_one_or_none()


def by_message_id(tx: Tx, message_id: str) -> Outbound | None:
    return tx.session.execute(select(Outbound).where(Outbound.message_id == message_id)).scalar_one_or_none()


def due(tx: Tx, now: datetime, limit: int = 100) -> list[Outbound]:
    """Pending messages whose next attempt time has come, oldest first."""
    return list(
        tx.session.execute(
            select(Outbound)
            .where(
                Outbound.state == PENDING,
                or_(Outbound.next_attempt_at.is_(None), Outbound.next_attempt_at <= now),
            )
            .order_by(Outbound.id)
            .limit(limit)
        ).scalars()
    )


def sent_since(tx: Tx, since: datetime) -> list[Outbound]:
    """Messages sent at or after ``since`` (for a per-recipient rate limit)."""
    return list(
        tx.session.execute(
            select(Outbound).where(Outbound.state == SENT, Outbound.sent_at >= since).order_by(Outbound.sent_at)
        ).scalars()
    )


def recipient_free_at(tx: Tx, address: str, now: datetime, per_hour: int) -> datetime | None:
    """When one more message may go to ``address`` if ``per_hour`` went to it in the hour before
    ``now``, else None: one indexed query (``outbox_sent_to`` by address and time)."""
    nth_latest = tx.session.execute(
        select(SentTo.sent_at)
        .where(SentTo.address == address.lower(), SentTo.sent_at >= now - timedelta(hours=1))
        .order_by(SentTo.sent_at.desc())
        .offset(max(per_hour, 1) - 1)
        .limit(1)
    ).scalar_one_or_none()
    return nth_latest + timedelta(hours=1) if nth_latest is not None else None


def mark_sent(tx: Tx, row: Outbound, at: datetime | None = None) -> None:
    row.state = SENT
    row.sent_at = at or utcnow()
    row.attempts += 1
    row.last_error = None
    tx.session.add_all(SentTo(outbound_id=row.id, address=address, sent_at=row.sent_at)
                       for address in sorted({r.lower() for r in row.recipients}))
    tx.session.flush()
    case = tx.case_by_id(row.case_id) if row.case_id is not None else None
    tx.audit("resdesk", "outbound-sent", case.ref if case else None,
             {"kind": row.kind, "message_id": row.message_id, "recipients": row.recipients})


def mark_failed(
    tx: Tx, row: Outbound, error: str, *, retry_at: datetime | None, now: datetime | None = None
) -> None:
    """Count a failed attempt; ``retry_at`` None gives up (state failed), else it is tried again then."""
    row.attempts += 1
    row.last_error = error
    if retry_at is None:
        row.state = FAILED
        row.next_attempt_at = None
    else:
        row.next_attempt_at = retry_at
    tx.session.flush()


def backoff(attempts: int, base: timedelta = timedelta(seconds=30), cap: timedelta = timedelta(hours=1)) -> timedelta:
    """Exponential backoff for temporary SMTP failures: 30 s, 1 min, 2 min, … up to an hour."""
    return min(cap, base * (2 ** max(0, attempts - 1)))
