"""Refused mail is answered, and the business unit told of every quarantined message.

For each message the watcher quarantined (a ledger row in state ``quarantined``):

- ``refused:<ledger id>``: one short reply to its sender, saying what was wrong and how to send
  it again — only where intake recorded whom to answer (``Message.answer_to``): a person, never
  automatic mail nor a sender that failed the authentication checks;
- ``quarantined:<ledger id>``: a notice to the business unit, at once
  (``partnership.quarantine_notice = "immediate"``), or ``quarantine-digest:<date>``: one
  digest of a day's quarantined messages (``"daily"``), sent at the first tick after that
  local day has ended.

Each goes through the outbox like every other message, under its idempotency key, so it is
written once and sent once.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parseaddr

from sqlalchemy import select

from resdesk.cases.models import QUARANTINED, Message
from resdesk.cases.store import Tx
from resdesk.protocols import to_local

from .message import OutboundMail, reply_subject

__all__ = ["owed_refusals"]


def owed_refusals(tx: Tx, settings, now: datetime, known: set[str]) -> list[OutboundMail]:
    """The replies and business-unit notices owed for quarantined mail whose key ``known`` lacks."""
    rows = list(tx.session.execute(
        select(Message).where(Message.state == QUARANTINED).order_by(Message.id)
    ).scalars())
    sender = settings.smtp.sender
    unit = parseaddr(settings.partnership.business_unit)[1]
    owed: list[OutboundMail] = []
    for row in rows:
        key = f"refused:{row.id}"
        if row.answer_to and key not in known:
            owed.append(_refusal(row, key, sender, now))
    if not unit:
        return owed
    if getattr(settings.partnership, "quarantine_notice", "immediate") == "daily":
        by_day: dict[str, list[Message]] = {}
        for row in rows:
            day = to_local(_when(row, now)).date()
            if day < to_local(now).date():
                by_day.setdefault(day.isoformat(), []).append(row)
        for day, day_rows in by_day.items():
            key = f"quarantine-digest:{day}"
            if key not in known:
                owed.append(_digest(day, day_rows, key, sender, unit, now))
        return owed
    for row in rows:
        key = f"quarantined:{row.id}"
        if key not in known:
            owed.append(_digest(None, [row], key, sender, unit, now))
    return owed


def _when(row: Message, now: datetime) -> datetime:
    """When the message was quarantined (UTC; the store keeps naive UTC)."""
    moment = row.completed_at or row.created_at or now
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _refusal(row: Message, key: str, sender: str, now: datetime) -> OutboundMail:
    our_address = parseaddr(sender)[1]
    body = (
        "Your message could not be recorded, so nothing in it has been filed on a case yet.\n\n"
        f"Subject: {row.subject or '(none)'}\n\n"
        f"What was wrong: {row.reason}.\n\n"
        "How to send it again: correct what is named above, then send the whole message again to "
        f"{our_address}, with the same subject. Word (.docx) or PDF forms must be sent as they were "
        "filled in, without a password, macros or encryption. The partnership's business unit has "
        "been told about this message.\n\n"
        "This reply was sent automatically; your message is kept unchanged.\n"
    )
    return OutboundMail(
        kind="refusal", idempotency_key=key, sender=sender, recipients=[row.answer_to],
        subject=reply_subject(row.subject or "Your message", ""), case_ref="", body_text=body, sent_at=now,
        in_reply_to=row.message_id, references=[row.message_id] if row.message_id else [],
    )


def _digest(day: str | None, rows: list[Message], key: str, sender: str, unit: str, now: datetime) -> OutboundMail:
    lines = []
    for row in rows:
        answered = f"the sender ({row.answer_to}) was told why" if row.answer_to else "the sender was not answered (automatic mail or a sender not trusted)"
        lines.append(
            f"- From: {row.sender or '(unknown)'}\n  Subject: {row.subject or '(none)'}\n"
            f"  Received: {to_local(_when(row, now)).strftime('%A %d %B %Y at %H:%M')}\n"
            f"  Why: {row.reason}\n  {answered}."
        )
    if day is None:
        subject = f"Quarantined: {rows[0].subject or 'a message'}"
        opening = "A message to the partnership's inbox was quarantined: nothing in it was recorded."
    else:
        subject = f"Quarantined mail on {day}: {len(rows)} message(s)"
        opening = f"These {len(rows)} message(s) to the partnership's inbox were quarantined on {day}."
    body = (
        f"{opening}\n\n" + "\n\n".join(lines) + "\n\n"
        "Each is kept unchanged in the mailbox's quarantine folder and in the archive; a person may "
        "read it there and record it, or ask the sender to send it again.\n"
    )
    return OutboundMail(
        kind="quarantine", idempotency_key=key, sender=sender, recipients=[unit], subject=subject,
        case_ref="", body_text=body, sent_at=now,
    )
