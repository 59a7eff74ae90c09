"""Which of our messages a delivery report is about (RFC 3464, pure).

A bounce (``multipart/report; report-type=delivery-status``) carries the undelivered message, or
its headers, as a ``message/rfc822``, ``message/global`` or ``text/rfc822-headers`` part;
servers that do not follow RFC 3464 attach it or quote it. Its ``Message-ID`` names the
outbound message that bounced.
"""

from __future__ import annotations

from datetime import datetime
from email import policy
from email.parser import BytesHeaderParser

from sqlalchemy import select

from resdesk.cases.models import BOUNCED, Case, Outbound
from resdesk.cases.store import Tx
from resdesk.intake.headers import safe_header_text
from resdesk.intake.message import InboundMessage

__all__ = ["bounced_message_ids", "mark_bounced"]

_CARRIERS = ("message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers")


def bounced_message_ids(message: InboundMessage) -> tuple[str, ...]:
    """Message-IDs of the messages ``message`` reports undelivered; empty when it is no delivery
    report or names none."""
    if not (message.is_delivery_report or message.return_path_empty or message.auto_submitted):
        return ()
    found: dict[str, None] = {}
    for attachment in message.attachments:
        if attachment.content_type not in _CARRIERS or not attachment.data:
            continue
        try:
            headers = BytesHeaderParser(policy=policy.default).parsebytes(attachment.data[:65536])
            value = headers.get("Message-ID")
        except Exception:  # noqa: BLE001 - an unreadable original names nothing
            continue
        if value:
            text = safe_header_text(str(value)).strip()
            if text.startswith("<") and text.endswith(">"):
                found.setdefault(text, None)
    return tuple(found)


def mark_bounced(tx: Tx, message: InboundMessage, when: datetime) -> str | None:
    """If ``message`` reports one of our outbound messages undelivered, mark that message bounced
    and raise an ``outbound-bounced`` alert for the business unit (once). Returns the bounced
    message's case reference, or None."""
    ids = bounced_message_ids(message)
    if not ids:
        return None
    row = tx.session.execute(select(Outbound).where(Outbound.message_id.in_(ids)).limit(1)).scalar_one_or_none()
    if row is None:
        return None
    case = tx.session.get(Case, row.case_id) if row.case_id is not None else None
    if row.state != BOUNCED:
        row.state = BOUNCED
        row.last_error = f"bounced: {message.subject}"[:2000]
        tx.raise_alert(
            "outbound-bounced",
            {"message_id": row.message_id, "recipients": row.recipients, "subject": row.subject,
             "case": case.ref if case else None, "report": message.subject},
            at=when,
        )
    return case.ref if case else None
