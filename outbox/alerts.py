"""What the business unit must look at about the service itself, until someone acknowledges it:
failed and unconfirmed sends, bounces of our mail, and mailboxes recreated (new UIDVALIDITY).

Each alert has a stable ``key`` (``alert:<id>``, ``outbound:<id>:<state>``,
``bounce:<ledger id>``); acknowledging records who and why in the audit chain and
takes it off the list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from resdesk.cases.models import Alert, AlertAcknowledgement, Case, Message, Outbound
from resdesk.cases.store import Tx
from resdesk.errors import UsageError
from resdesk.outbox.queue import FAILED
from resdesk.outbox.sending import UNCONFIRMED

_ALERT_TITLES = {
    "outbound-failed": "A message could not be sent",
    "outbound-unconfirmed": "A send was interrupted: the server may or may not have accepted it",
    "uidvalidity-changed": "A mailbox folder was recreated (new UIDVALIDITY)",
}
_BOUNCE_WORDS = ("bounce", "delivery report", "delivery-status")


def open_alerts(tx: Tx) -> list[dict[str, Any]]:
    """Unacknowledged alerts, newest first: ``key``, ``kind``, ``title``, ``at``, ``case_ref``, ``detail``."""
    acknowledged = set(tx.session.execute(select(AlertAcknowledgement.key)).scalars())
    refs = dict(tx.session.execute(select(Case.id, Case.ref)).all())
    items: list[dict[str, Any]] = []
    for alert in tx.session.execute(select(Alert)).scalars():
        items.append({"key": f"alert:{alert.id}", "kind": alert.kind, "at": alert.at,
                      "title": _ALERT_TITLES.get(alert.kind, alert.kind), "case_ref": None, "detail": alert.detail})
    for row in tx.session.execute(select(Outbound).where(Outbound.state.in_((FAILED, UNCONFIRMED)))).scalars():
        items.append({"key": f"outbound:{row.id}:{row.state}", "kind": f"outbound-{row.state}",
                      "at": row.next_attempt_at or row.created_at, "case_ref": refs.get(row.case_id),
                      "title": f"Outbound {row.kind} is {row.state}",
                      "detail": {"message_id": row.message_id, "recipients": row.recipients,
                                 "subject": row.subject, "last_error": row.last_error}})
    bounces = select(Message).where(or_(*(Message.reason.ilike(f"%{w}%") for w in _BOUNCE_WORDS)))
    for message in tx.session.execute(bounces).scalars():
        items.append({"key": f"bounce:{message.id}", "kind": "bounce", "at": message.received_at or message.created_at,
                      "case_ref": refs.get(message.case_id), "title": "A bounce or delivery report arrived",
                      "detail": {"from": message.sender, "subject": message.subject, "reason": message.reason}})
    items = [item for item in items if item["key"] not in acknowledged]
    return sorted(items, key=lambda item: item["at"], reverse=True)


def acknowledge(tx: Tx, key: str, at: datetime, *, actor: str, reason: str) -> None:
    """Take an alert off the list, saying who saw it and why it needs nothing more."""
    if not (reason or "").strip():
        raise UsageError("Acknowledging an alert needs a reason; say what was done about it.")
    if tx.session.get(AlertAcknowledgement, key) is not None:
        raise UsageError(f"The alert {key} was already acknowledged.")
    if key not in {item["key"] for item in open_alerts(tx)}:
        raise UsageError(f"There is no open alert {key}.")
    tx.session.add(AlertAcknowledgement(key=key, by=actor, reason=reason.strip(), at=at))
    tx.session.flush()
    tx.audit(actor, "alert-acknowledged", None, {"key": key, "by": actor, "reason": reason.strip()}, at=at)
