"""Outbound mail, built as pure functions: headers, threading, loop protection.

``build_message`` turns an ``OutboundMail`` into the exact bytes to send. Its
Message-ID comes from the idempotency key (the reason the message exists:
``ack:<ledger id>``, ``notice:<case>:<stage>:<kind>``…), so building the same
message twice gives the same Message-ID and a sender restarted after a crash
can recognise a message the server already accepted.

Anything copied from inbound mail (a subject, an address, a Message-ID) is
cleaned before it reaches a header: control characters and line breaks become
spaces, an address must be exactly one address, a Message-ID must look like
one or it is dropped. So a hostile subject cannot add a ``Bcc:`` line, and the
SMTP envelope is always the recipients the product chose, never a header.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from email.message import EmailMessage, Message
from email.policy import SMTP
from email.utils import format_datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from resdesk.errors import RenderError
from resdesk.render.addresses import clean_header_text, parse_one_address

__all__ = [
    "OutboundMail",
    "MailAttachment",
    "AUTO_SUBMITTED",
    "build_message",
    "message_id_for",
    "clean_header_text",
    "parse_one_address",
    "clean_message_id",
    "reply_subject",
    "with_case_token",
    "references_for",
    "envelope_recipients",
    "is_automatic",
    "RecipientRateLimit",
]

# RFC 3834: replies to a message are "auto-replied"; everything we originate is "auto-generated".
AUTO_SUBMITTED = {
    "acknowledgement": "auto-replied",
    "notice": "auto-generated",
    "reminder": "auto-generated",
    "overdue": "auto-generated",
    "record": "auto-generated",
    "refusal": "auto-replied",
    "quarantine": "auto-generated",
    "bounce-notice": "auto-generated",
}
_MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")
_TOKEN = re.compile(r"\[([A-Z]{2,12}-\d{4}-\d{3,6})\]")
_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|vs)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_MAX_REFERENCES = 10


class MailAttachment(BaseModel):
    model_config = ConfigDict(frozen=True)

    filename: str
    content: bytes
    media_type: str = "application/pdf"


class OutboundMail(BaseModel):
    """One message the product sends, as plain data."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["acknowledgement", "notice", "reminder", "overdue", "record", "refusal", "quarantine", "bounce-notice"]
    idempotency_key: str = Field(min_length=1)
    sender: str = Field(description="The From address, e.g. 'Escalations <escalations@partnership.example>'.")
    recipients: list[str] = Field(min_length=1)
    cc: list[str] = []
    subject: str
    case_ref: str
    body_text: str
    sent_at: datetime
    in_reply_to: str | None = None
    references: list[str] = []
    attachments: list[MailAttachment] = []


def clean_message_id(value: str | None) -> str | None:
    """``<id@host>`` if ``value`` holds one, else None (a malformed id is dropped, not passed on)."""
    if not value:
        return None
    match = _MESSAGE_ID.search(value)
    return match.group(0) if match else None


def message_id_for(idempotency_key: str, domain: str) -> str:
    """A Message-ID fixed by the reason the message exists: same key, same id."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}.resdesk@{domain}>"


def with_case_token(subject: str, case_ref: str) -> str:
    """``subject`` carrying ``[case_ref]`` exactly once (correlation reads this token)."""
    subject = clean_header_text(subject, 250)
    token = f"[{case_ref}]"
    if not case_ref or token in subject:
        return subject
    return f"{subject} {token}".strip()


def reply_subject(original: str, case_ref: str) -> str:
    """'RE: <original without its reply prefixes> [case_ref]'."""
    stripped = _REPLY_PREFIX.sub("", clean_header_text(original, 250))
    return with_case_token(f"RE: {stripped}", case_ref)


def references_for(original_message_id: str | None, original_references: str | None) -> list[str]:
    """The References of a reply: the original's references then its own id, latest ten."""
    chain = _MESSAGE_ID.findall(original_references or "")
    own = clean_message_id(original_message_id)
    if own:
        chain.append(own)
    return chain[-_MAX_REFERENCES:]


def build_message(mail: OutboundMail) -> tuple[EmailMessage, bytes]:
    """The message and its bytes (CRLF line ends), ready for SMTP."""
    sender = parse_one_address(mail.sender)
    to = [parse_one_address(value) for value in mail.recipients]
    cc = [parse_one_address(value) for value in mail.cc]
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = with_case_token(mail.subject, mail.case_ref)
    moment = mail.sent_at if mail.sent_at.tzinfo else mail.sent_at.replace(tzinfo=timezone.utc)
    message["Date"] = format_datetime(moment)
    message["Message-ID"] = message_id_for(mail.idempotency_key, sender.domain)
    in_reply_to = clean_message_id(mail.in_reply_to)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    references = [ref for ref in (clean_message_id(r) for r in mail.references) if ref]
    if in_reply_to and in_reply_to not in references:
        references.append(in_reply_to)
    if references:
        message["References"] = " ".join(references[-_MAX_REFERENCES:])
    message["Auto-Submitted"] = AUTO_SUBMITTED[mail.kind]
    message["X-Auto-Response-Suppress"] = "All"
    if mail.case_ref:
        message["X-Resdesk-Case"] = clean_header_text(mail.case_ref, 40)
    message["X-Resdesk-Notice"] = mail.kind
    message.set_content(mail.body_text)
    for attachment in mail.attachments:
        maintype, _, subtype = attachment.media_type.partition("/")
        message.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=clean_header_text(attachment.filename, 120),
        )
    if message.is_multipart():
        # A boundary fixed by the key too, so the same message builds to the same structure.
        message.set_boundary("=_resdesk_" + message_id_for(mail.idempotency_key, "b")[1:33])
    return message, message.as_bytes(policy=SMTP)


def envelope_recipients(mail: OutboundMail) -> list[str]:
    """The SMTP RCPT TO list: the chosen To and Cc addresses, nothing from any header."""
    return [parse_one_address(value).addr_spec for value in [*mail.recipients, *mail.cc]]


def is_automatic(message: Message) -> bool:
    """True when an inbound message is itself automatic, so it must get no automatic reply.

    RFC 3834 ``Auto-Submitted`` other than ``no``, Microsoft's
    ``X-Auto-Response-Suppress``, bulk/list/junk precedence, list headers, an
    empty return path (bounces), and our own messages looping back.
    """
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto and auto != "no":
        return True
    if message.get("X-Auto-Response-Suppress") or message.get("X-Resdesk-Case"):
        return True
    if str(message.get("Precedence", "")).strip().lower() in {"bulk", "junk", "list", "auto_reply"}:
        return True
    if message.get("List-Id") or message.get("List-Unsubscribe") or message.get("X-Autoreply"):
        return True
    if message.get("X-Autorespond") or message.get("X-Auto-Reply"):
        return True
    return_path = message.get("Return-Path")
    if return_path is not None and str(return_path).strip() in {"<>", ""}:
        return True
    content_type = str(message.get("Content-Type", "")).lower()
    return "multipart/report" in content_type


class RecipientRateLimit:
    """At most ``per_hour`` messages to one recipient in any rolling hour (``now`` is passed in)."""

    def __init__(self, per_hour: int) -> None:
        self.per_hour = per_hour
        self._sent: dict[str, list[datetime]] = {}

    def allow(self, recipient: str, now: datetime) -> bool:
        """Whether one more message to ``recipient`` may go now; counts it if so."""
        key = recipient.strip().lower()
        recent = [at for at in self._sent.get(key, []) if (now - at).total_seconds() < 3600]
        if len(recent) >= self.per_hour:
            self._sent[key] = recent
            return False
        recent.append(now)
        self._sent[key] = recent
        return True
