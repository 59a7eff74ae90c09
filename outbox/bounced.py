"""The business unit is told when one of our messages bounces.

When a delivery report (RFC 3464) names one of our outbound messages, intake marks that message
``bounced`` and raises an ``outbound-bounced`` alert (``intake.bounces``). Here each bounced
message owes one notice to the business unit, under the idempotency key ``bounced:<outbox id>``,
so it is written once and sent once, through the outbox like every other message.

The notice never goes to the address that bounced (when the business unit's own address is among
the bounced recipients, the alert stays on the service's alert list only), never answers the
delivery report, and a bounced bounce notice owes no further notice, so no loop can start.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parseaddr

from sqlalchemy import select

from resdesk.cases.models import BOUNCED, Case, Outbound
from resdesk.cases.store import Tx

from .message import OutboundMail

__all__ = ["owed_bounce_notices"]

KIND = "bounce-notice"


def owed_bounce_notices(tx: Tx, settings, now: datetime, known: set[str]) -> list[OutboundMail]:
    """One notice to ``partnership.business_unit`` per bounced outbound message whose key
    ``bounced:<outbox id>`` ``known`` lacks; none when no business unit is configured."""
    unit = parseaddr(settings.partnership.business_unit)[1]
    if not unit:
        return []
    rows = tx.session.execute(
        select(Outbound).where(Outbound.state == BOUNCED, Outbound.kind != KIND).order_by(Outbound.id)
    ).scalars()
    owed: list[OutboundMail] = []
    for row in rows:
        key = f"bounced:{row.id}"
        bounced_to = {parseaddr(r)[1].lower() for r in row.recipients or []}
        if key in known or unit.lower() in bounced_to:
            continue
        case = tx.session.get(Case, row.case_id) if row.case_id is not None else None
        owed.append(_notice(row, case.ref if case else "", key, settings.smtp.sender, unit, now))
    return owed


def _notice(row: Outbound, case_ref: str, key: str, sender: str, unit: str, now: datetime) -> OutboundMail:
    recipients = ", ".join(row.recipients or []) or "(none recorded)"
    report = (row.last_error or "").removeprefix("bounced: ") or "(no subject)"
    body = (
        "A message the partnership sent was reported undelivered, so its recipient has not had it.\n\n"
        f"Case: {case_ref or '(none)'}\n"
        f"Subject: {row.subject}\n"
        f"To: {recipients}\n"
        f"Message-ID: {row.message_id}\n"
        f"Delivery report: {report}\n\n"
        "What to do: check the recipient's address with their agency, correct it on the case, and "
        "send the message again by another route if a deadline depends on it. The delivery report "
        "is filed on the case and was not answered.\n"
    )
    return OutboundMail(
        kind=KIND, idempotency_key=key, sender=sender, recipients=[unit],
        subject=f"Undelivered: {row.subject}", case_ref=case_ref, body_text=body, sent_at=now,
    )
