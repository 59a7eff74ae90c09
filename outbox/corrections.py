"""A person's corrections to outbound mail: send a message again, or cancel one not yet sent.

Both work inside the caller's unit of work, name who did it and why in the audit
chain, and raise ``UsageError`` when the message's state forbids it. A resent
message keeps its Message-ID (it is the same message) and goes out at the next
tick; a cancelled one is never sent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from resdesk.cases.models import PENDING, SENT, Outbound
from resdesk.cases.store import Tx
from resdesk.errors import UsageError
from resdesk.outbox.queue import FAILED
from resdesk.outbox.sending import CONNECTING, SENDING, UNCONFIRMED

CANCELLED = "cancelled"


def _outbound(tx: Tx, message_id: str) -> Outbound:
    row = tx.session.execute(select(Outbound).where(Outbound.message_id == message_id)).scalar_one_or_none()
    if row is None:
        raise UsageError(f"The outbox holds no message {message_id}.")
    return row


def _audit(tx: Tx, row: Outbound, action: str, at: datetime, actor: str, reason: str, previous: str) -> None:
    if not (reason or "").strip():
        raise UsageError("A correction needs a reason; say why it is made.")
    case = tx.case_by_id(row.case_id) if row.case_id is not None else None
    tx.audit(actor, action, case.ref if case else None,
             {"message_id": row.message_id, "kind": row.kind, "previous_state": previous,
              "recipients": row.recipients, "by": actor, "reason": reason.strip()}, at=at)


def resend(tx: Tx, message_id: str, at: datetime, *, actor: str, reason: str) -> Outbound:
    """Queue a sent, failed, unconfirmed or cancelled message to go again at the next tick."""
    row = _outbound(tx, message_id)
    if row.state in (PENDING, CONNECTING, SENDING):
        raise UsageError(f"Message {message_id} is {row.state}; it is already on its way.")
    previous = row.state
    row.state, row.attempts, row.last_error, row.next_attempt_at = PENDING, 0, None, None
    _audit(tx, row, "outbound-resend", at, actor, reason, previous)
    return row


def cancel(tx: Tx, message_id: str, at: datetime, *, actor: str, reason: str) -> Outbound:
    """Never send a message still waiting (pending, failed or unconfirmed)."""
    row = _outbound(tx, message_id)
    if row.state not in (PENDING, FAILED, UNCONFIRMED):
        raise UsageError(f"Message {message_id} is {row.state}; only a message not yet sent can be cancelled.")
    previous = row.state
    row.state, row.next_attempt_at = CANCELLED, None
    _audit(tx, row, "outbound-cancelled", at, actor, reason, previous)
    return row


__all__ = ["CANCELLED", "SENT", "cancel", "resend"]
