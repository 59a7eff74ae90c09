"""Sending the outbox's due rows once each, and what a crash mid-send leaves behind.

**A crash between the SMTP server's acceptance and our commit.** A server can
accept a message only at the end of DATA. Over SMTP the row is marked
``connecting`` (committed) before the transaction opens, and ``sending``
(committed) once the envelope is accepted and immediately before DATA
(``render.smtp_phased``). When the lease is next taken, a row found in
``connecting`` belonged to a process that died before any DATA: nothing can have
been accepted, so it simply goes back to the queue. A row found in ``sending``
may or may not have been accepted: it is never resent automatically — it becomes
``unconfirmed`` with an alert ("the SMTP server may have accepted <Message-ID>;
check before resending") — so a notice is never sent twice and never silently
forgotten. SMTP gives no way to ask a server whether it accepted a message, so a
person's check is the honest answer for that narrow window; because the
Message-ID is fixed, a resend a person chooses to make is recognisable as the
same message by the recipient's mail system. A sender without phases (the pickup
folder, any other ``send``) is marked ``sending`` for its whole call.

Sends are serialised by the ``outbox-sender`` lease (one sending process at a
time; a holder that died on this host is recognised at once, one elsewhere when
the lease lapses). At most ``smtp.rate_per_recipient_per_hour`` messages go to one
recipient in any hour, counted from the store so the limit holds across
restarts, by one indexed query per recipient (``outbox_sent_to``), so a send costs
the same however many went before it; a message's bytes are read only to send it.
A temporary failure is retried later with backoff, up to ``MAX_ATTEMPTS``; a
permanent one gives up with an alert. Just before a stage notice, a reminder or an overdue
alert is sent or retried, in the unit of work that would claim it, it is asked again whether
the case still owes it: one the case has moved past since it was queued is superseded, never
sent (``_superseded``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from email import policy
from email.parser import BytesHeaderParser
from typing import Any, Callable, Protocol as TypingProtocol, Sequence

from sqlalchemy import select, update

from . import queue
from resdesk.cases import leases
from resdesk.cases.holders import holder_name
from resdesk.cases import metrics
from resdesk.cases.models import PENDING, Case, Event, Message, Outbound
from resdesk.cases.store import Store, Tx
from resdesk.cases.timeline import (
    CASE_RESOLVED, DEADLINE_MET, DEADLINE_MET_WITHDRAWN, NOTICE_SENT, STAGE_ENTERED, withdrawn_records,
)
from resdesk.errors import ProtocolError
from resdesk.protocols import Registry, to_local
from resdesk.render.snapshot import EventSnapshot

from .message import parse_one_address
from .notices import queued_notice_superseded
from .smtp import PermanentSendFailure, TemporarySendFailure

__all__ = [
    "CONNECTING",
    "SENDING",
    "UNCONFIRMED",
    "FAILED",
    "LEASE",
    "MAX_ATTEMPTS",
    "MailSender",
    "take_lease",
    "release_lease",
    "recover_interrupted",
    "settle_unconfirmed",
    "row_summary",
    "send_due",
]

CONNECTING, SENDING, UNCONFIRMED, FAILED = "connecting", "sending", "unconfirmed", queue.FAILED
LEASE = "outbox-sender"
LEASE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 12
_HOLDER = holder_name(uuid.uuid4().hex[:8])


class MailSender(TypingProtocol):
    def send(self, raw: bytes, *, mail_from: str, recipients: Sequence[str], message_id: str) -> None: ...


# -- the sender lease -------------------------------------------------------------------------


def take_lease(store: Store) -> bool:
    """Take the sender lease if it is free, lapsed, ours, or held by a dead process on this host."""
    return leases.take(store, LEASE, _HOLDER, LEASE_TTL)


def _renew_lease(store: Store) -> None:
    leases.renew(store, LEASE, _HOLDER, LEASE_TTL)


def release_lease(store: Store) -> None:
    leases.release(store, LEASE, _HOLDER)


# -- recovery ---------------------------------------------------------------------------------


def row_summary(row: Outbound, case_ref: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "key": row.idempotency_key, "kind": row.kind, "message_id": row.message_id,
        "recipients": list(row.recipients), "subject": row.subject, "case": case_ref, **extra,
    }


def recover_interrupted(store: Store, now: datetime) -> list[dict[str, Any]]:
    """Rows a process that died left mid-send: ``connecting`` ones are queued again (no DATA was
    sent), ``sending`` ones become ``unconfirmed``, each with an alert. Returns the unconfirmed.

    Call only while holding the sender lease: then no live process is sending them.
    """
    found: list[dict[str, Any]] = []
    with store.transaction() as tx:
        rows = tx.session.execute(
            select(Outbound).where(Outbound.state.in_((CONNECTING, SENDING))).order_by(Outbound.id)
        ).scalars()
        for row in rows:
            case = tx.case_by_id(row.case_id) if row.case_id is not None else None
            ref = case.ref if case else None
            if row.state == CONNECTING:
                row.state = PENDING
                tx.audit("resdesk", "outbound-requeued", ref, {
                    "message_id": row.message_id, "key": row.idempotency_key,
                    "reason": "interrupted before the message was transmitted; nothing can have been accepted",
                })
                continue
            row.state = UNCONFIRMED
            row.last_error = "interrupted between the SMTP transaction and recording its result"
            detail = row_summary(row, ref, message=(
                f"The SMTP server may have accepted {row.message_id}; check before resending "
                f"({row.kind} to {', '.join(row.recipients)}, case {ref or '-'})."
            ))
            tx.raise_alert("outbound-unconfirmed", detail, at=now)
            found.append(detail)
    return found


def settle_unconfirmed(store: Store, message_id: str, *, delivered: bool, now: datetime, actor: str = "person") -> dict[str, Any]:
    """A person's answer about an unconfirmed message: it was delivered (recorded as sent),
    or it was not (queued again, to go at the next tick). Either way it leaves an audit entry."""
    from resdesk.errors import UsageError

    with store.transaction() as tx:
        row = queue.by_message_id(tx, message_id.strip())
        if row is None or row.state != UNCONFIRMED:
            state = "no such message" if row is None else f"it is {row.state}"
            raise UsageError(f"The outbox holds no unconfirmed message {message_id} ({state}).")
        ref = _case_ref(tx, row)
        if delivered:
            _record_sent(tx, row, now)
        else:
            row.state = PENDING
            row.next_attempt_at = None
        tx.audit(actor, "outbound-settled", ref, {
            "message_id": row.message_id, "key": row.idempotency_key,
            "answer": "delivered" if delivered else "not delivered: queued again",
        })
        return row_summary(row, ref, state=row.state)


# -- sending ----------------------------------------------------------------------------------


def _rate_limited(tx: Tx, row: Outbound, now: datetime, per_hour: int) -> datetime | None:
    """When ``row`` may go if a recipient had ``per_hour`` messages in the last hour, else None
    (one indexed query per recipient; no sent message is loaded)."""
    later: datetime | None = None
    for recipient in {r.lower() for r in row.recipients}:
        free_at = queue.recipient_free_at(tx, recipient, now, per_hour)
        if free_at is not None:
            later = free_at if later is None else max(later, free_at)
    return later


def _claim(tx: Tx, row: Outbound, state: str) -> bool:
    """Move ``row`` from pending to ``state``, if it is still pending (another sender may have taken it)."""
    result = tx.session.execute(
        update(Outbound).where(Outbound.id == row.id, Outbound.state == PENDING).values(state=state)
    )
    return result.rowcount == 1


def _transmitting(store: Store, row_id: int) -> Callable[[], None]:
    """The phased sender's ``before_data``: commit that DATA is about to go."""

    def mark() -> None:
        with store.transaction() as tx:
            tx.session.execute(
                update(Outbound).where(Outbound.id == row_id, Outbound.state == CONNECTING).values(state=SENDING)
            )

    return mark


def _transmit(store: Store, sender: MailSender, row_id: int, raw: bytes, **envelope: Any) -> None:
    if hasattr(sender, "send_phased"):
        sender.send_phased(raw, before_data=_transmitting(store, row_id), **envelope)
    else:
        sender.send(raw, **envelope)


def _case_ref(tx: Tx, row: Outbound) -> str | None:
    case = tx.session.get(Case, row.case_id) if row.case_id is not None else None
    return case.ref if case else None


def _record_sent(tx: Tx, row: Outbound, now: datetime) -> str | None:
    row.state = PENDING  # mark_sent counts the attempt from the claimed row
    queue.mark_sent(tx, row, at=now)
    metrics.OUTBOUND_SENT.labels(row.kind).inc()
    if row.kind == "acknowledgement" and row.raw:
        answered = BytesHeaderParser(policy=policy.default).parsebytes(row.raw[:16384]).get("In-Reply-To")
        if answered:
            received = tx.session.execute(select(Message.received_at).where(
                Message.message_id == str(answered).strip()).order_by(Message.id).limit(1)).scalar_one_or_none()
            metrics.acknowledgement_sent(received, now)
    case = tx.session.get(Case, row.case_id) if row.case_id is not None else None
    if case is not None:
        tx.add_event(case, NOTICE_SENT, now, stage=case.stage, message_id=row.message_id, detail={
            "kind": row.kind, "key": row.idempotency_key, "recipients": list(row.recipients), "subject": row.subject,
        })
    return case.ref if case else None


_TIMED = ("reminder", "overdue")  # reminders (a review's too) and overdue alerts


def _superseded(tx: Tx, row: Outbound, registry: Registry, now: datetime) -> tuple[str, str] | None:
    """(case ref, reason) when ``row`` is no longer owed, else None; one indexed query of the case's
    stage entries and resolutions, the message's bytes never read.

    - A stage notice its case has moved past by ``now`` (``notices.queued_notice_superseded``).
    - A reminder or overdue alert written before the case recorded a stage entry or a resolution
      (``Event.recorded_at`` after the row's ``created_at``): it speaks of a stage or a due time
      the case has left, and planning writes what the case owes now.
    - A reminder or overdue alert of a deadline a person has recorded done (``deadline-met``,
      ``cases.record_deadline_met``, not withdrawn), whenever it was written: nothing about it is owed.

    A message sent before and queued again by a person (``resdesk act resend``) is theirs to
    decide, and is never superseded."""
    if row.case_id is None or row.sent_at is not None:
        return None
    if row.kind in _TIMED:
        return _timed_superseded(tx, row)
    if row.kind != "notice" or not row.idempotency_key.startswith("notice:"):
        return None
    case = tx.session.get(Case, row.case_id)
    try:
        protocol = registry.get(case.protocol)
    except ProtocolError:  # a protocol no longer installed: nothing to tell a stage by
        return None
    events = [
        EventSnapshot(id=e.id, kind=e.kind, at=e.at, stage=e.stage, variant=e.variant)
        for e in tx.session.execute(
            select(Event.id, Event.kind, Event.at, Event.stage, Event.variant)
            .where(Event.case_id == case.id, Event.kind.in_((STAGE_ENTERED, CASE_RESOLVED)))
        )
    ]
    reason = queued_notice_superseded(row.idempotency_key, case.ref, protocol, events, now)
    return (case.ref, reason) if reason is not None else None


def _timed_superseded(tx: Tx, row: Outbound) -> tuple[str, str] | None:
    """``_superseded`` for a reminder or an overdue alert."""
    done = _deadline_recorded_done(tx, row)
    if done is not None:
        return _case_ref(tx, row), done
    moved = tx.session.execute(
        select(Event.kind, Event.stage, Event.at)
        .where(Event.case_id == row.case_id, Event.kind.in_((STAGE_ENTERED, CASE_RESOLVED)),
               Event.recorded_at > row.created_at)
        .order_by(Event.recorded_at).limit(1)
    ).first()
    if moved is None:
        return None
    what = f"stage {moved.stage} recorded" if moved.kind == STAGE_ENTERED else "the resolution recorded"
    ref = _case_ref(tx, row)
    return ref, (f"superseded: the case moved on ({what}, dated {to_local(moved.at):%a %d %b %Y %H:%M}) "
                 f"after this {'overdue alert' if row.kind == 'overdue' else 'reminder'} was written")


def _deadline_recorded_done(tx: Tx, row: Outbound) -> str | None:
    """The reason a reminder or overdue alert of one of a stage's own deadlines
    (``<kind>:<case>:<stage>:<deadline>:<due>...``, ``outbox.reminders``) is superseded, when a
    person recorded that deadline done (and has not withdrawn the record); else None."""
    parts = row.idempotency_key.split(":")
    if len(parts) < 5:
        return None
    name, due = parts[3], ":".join(parts[4:]).split(":party:")[0]
    recorded = tx.session.execute(
        select(Event.id, Event.kind, Event.detail, Event.at)
        .where(Event.case_id == row.case_id, Event.kind.in_((DEADLINE_MET, DEADLINE_MET_WITHDRAWN)))
    ).all()
    withdrawn = withdrawn_records(recorded)
    for event_id, kind, detail, at in recorded:
        if kind != DEADLINE_MET or event_id in withdrawn:
            continue
        detail = detail or {}
        if detail.get("deadline") != name or detail.get("due") != due:
            continue
        who = detail.get("by") or "a person"
        return (f"superseded: {who} recorded {detail.get('what') or name} done "
                f"({to_local(at):%a %d %b %Y %H:%M}) before this "
                f"{'overdue alert' if row.kind == 'overdue' else 'reminder'} was sent")
    return None


def send_due(store: Store, sender: MailSender, settings, registry: Registry, now: datetime, report: Any) -> None:
    """Send every due row once; record each result in its own unit of work. A stage notice, reminder
    or overdue alert the case has moved past since it was queued is superseded instead, in the unit
    of work that would claim it (``_superseded``)."""
    mail_from = parse_one_address(settings.smtp.sender).addr_spec
    per_hour = settings.smtp.rate_per_recipient_per_hour
    first_state = CONNECTING if hasattr(sender, "send_phased") else SENDING
    attempted: set[int] = set()
    while True:
        with store.transaction() as tx:
            rows = [r for r in queue.due(tx, now) if r.id not in attempted]
            claimed: Outbound | None = None
            for row in rows:
                attempted.add(row.id)
                moved = _superseded(tx, row, registry, now)
                if moved is not None:
                    ref, reason = moved
                    if queue.mark_superseded(tx, row, reason, ref):
                        report.superseded.append({"key": row.idempotency_key, "case": ref, "reason": reason})
                    continue
                free_at = _rate_limited(tx, row, now, per_hour)
                if free_at is not None:
                    row.next_attempt_at = free_at
                    report.deferred.append(row_summary(row, _case_ref(tx, row), until=free_at.isoformat(),
                                                reason="per-recipient rate limit"))
                    continue
                if _claim(tx, row, first_state):
                    claimed = row
                    break
            if claimed is None:
                return
            ref = _case_ref(tx, claimed)
            raw, recipients, message_id = claimed.raw, list(claimed.recipients), claimed.message_id
        # Committed as claimed: from DATA until the result is recorded, a crash leaves it unconfirmed.
        _renew_lease(store)
        try:
            _transmit(store, sender, claimed.id, raw, mail_from=mail_from, recipients=recipients, message_id=message_id)
        except TemporarySendFailure as failure:
            with store.transaction() as tx:
                row = tx.session.get(Outbound, claimed.id)
                row.state = PENDING
                give_up = row.attempts + 1 >= MAX_ATTEMPTS
                retry_at = None if give_up else now + queue.backoff(row.attempts + 1)
                queue.mark_failed(tx, row, failure.reason, retry_at=retry_at, now=now)
                entry = row_summary(row, ref, error=failure.reason, retry_at=retry_at.isoformat() if retry_at else None)
                if give_up:
                    metrics.OUTBOUND_FAILED.labels(row.kind).inc()
                    tx.raise_alert("outbound-failed", entry, at=now)
                    report.failed.append(entry)
                else:
                    report.deferred.append({**entry, "reason": "temporary SMTP failure"})
            continue
        except PermanentSendFailure as failure:
            with store.transaction() as tx:
                row = tx.session.get(Outbound, claimed.id)
                row.state = PENDING
                queue.mark_failed(tx, row, failure.reason, retry_at=None, now=now)
                entry = row_summary(row, ref, error=failure.reason)
                metrics.OUTBOUND_FAILED.labels(row.kind).inc()
                tx.raise_alert("outbound-failed", entry, at=now)
                report.failed.append(entry)
            continue
        with store.transaction() as tx:
            row = tx.session.get(Outbound, claimed.id)
            _record_sent(tx, row, now)
            report.sent.append(row_summary(row, ref))
