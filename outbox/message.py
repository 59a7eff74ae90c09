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
from email.parser import BytesParser
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
    "shorten_subject",
    "verify_generated_headers",
    "SUBJECT_LIMIT",
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
# A subject longer than this is shortened at a word boundary; RFC 5322 §2.1.1 asks for lines
# of at most 78 characters, and a person reads a subject in a list, not a page.
SUBJECT_LIMIT = 160
_ELLIPSIS = "…"

# CVE-2024-6923: before Python 3.11.10 / 3.12.5 / 3.13.0 the email generator could write a
# header value containing a line break without folding whitespace after it, which a server
# reads as a new header. The bytes we send are checked whatever the Python patch level.
_HEADER_START = re.compile(rb"^[\x21-\x39\x3b-\x7e]+:")
_TOP_HEADERS = frozenset({
    "from", "to", "cc", "subject", "date", "message-id", "in-reply-to", "references",
    "auto-submitted", "x-auto-response-suppress", "x-resdesk-case", "x-resdesk-notice",
    "mime-version", "content-type", "content-transfer-encoding",
})
_PART_HEADERS = frozenset({"content-type", "content-transfer-encoding", "content-disposition", "mime-version"})


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
    case_code: str = Field("", description="The case token's check code (cases.tokens), e.g. 'K3F9QZ'; '' for none.")
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


def shorten_subject(subject: str, limit: int = SUBJECT_LIMIT) -> str:
    """``subject`` on one line, at most ``limit`` characters: cut at the last space that keeps
    at least half of it, else inside the word, and marked with an ellipsis. Linear in its size."""
    subject = clean_header_text(subject, limit * 4)
    if len(subject) <= limit:
        return subject
    cut = subject[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip() + _ELLIPSIS


def with_case_token(subject: str, case_ref: str, code: str = "") -> str:
    """``subject`` carrying the case token ``[case_ref-code]`` exactly once (correlation reads it;
    ``cases.tokens`` explains the check code), shortened to ``SUBJECT_LIMIT`` characters before the
    token so a long inbound subject never hides it. Any earlier token of the case, with or without
    a code, is replaced."""
    subject = clean_header_text(subject, SUBJECT_LIMIT * 4)
    if not case_ref:
        return shorten_subject(subject)
    token = f"[{case_ref}-{code}]" if code else f"[{case_ref}]"
    if token in subject and len(subject) <= SUBJECT_LIMIT + len(token) + 1:
        return subject
    earlier = re.compile(r"\[" + re.escape(case_ref) + r"(?:-[A-Za-z2-7]{6})?\]")
    subject = shorten_subject(earlier.sub(" ", subject))
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
    message["Subject"] = with_case_token(mail.subject, mail.case_ref, mail.case_code)
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
    raw = message.as_bytes(policy=_SMTP_POLICY)
    verify_generated_headers(raw)
    return message, raw


# Pythons with the fix refuse such a header themselves; older ones are covered by the check.
# Headers are folded only past RFC 5322's hard limit of 998 characters: folded at 78, a subject
# just over that length (one carrying a case token) is moved whole onto a continuation line, and
# some mail programs then show it with a leading space.
_SMTP_POLICY = SMTP.clone(max_line_length=998)
if hasattr(SMTP, "verify_generated_headers"):
    _SMTP_POLICY = _SMTP_POLICY.clone(verify_generated_headers=True)


def verify_generated_headers(raw: bytes) -> None:
    """Refuse bytes whose headers hold a line that is neither a header nor a folded continuation,
    or a header the product never writes (CVE-2024-6923, header injection through folding).

    Raises ``RenderError`` naming the offending line's start; nothing is sent.
    """
    head, _, _ = raw.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if b"\r" in line or b"\n" in line:
            raise RenderError(f"An outbound header holds a bare line break: {line[:60]!r}.")
        if line[:1] in (b" ", b"\t"):
            continue
        match = _HEADER_START.match(line)
        if match is None or match.group(0)[:-1].decode("ascii").lower() not in _TOP_HEADERS:
            raise RenderError(f"An outbound message would carry an unexpected header line: {line[:60]!r}.")
    parsed = BytesParser(policy=SMTP).parsebytes(raw)
    for part in parsed.walk():
        if part is parsed:
            continue
        names = {name.lower() for name in part.keys()}
        if not names <= _PART_HEADERS:
            raise RenderError(
                f"An outbound attachment would carry unexpected headers: {', '.join(sorted(names - _PART_HEADERS))}."
            )


def envelope_recipients(mail: OutboundMail) -> list[str]:
    """The SMTP RCPT TO list: the chosen To and Cc addresses, nothing from any header."""
    return [parse_one_address(value).addr_spec for value in [*mail.recipients, *mail.cc]]


def is_automatic(message: Message, our_addresses: frozenset[str] = frozenset()) -> bool:
    """True when an inbound message must get no automatic reply: intake's one test,
    ``classify.no_automatic_reply`` (RFC 3834 ``Auto-Submitted``, ``X-Auto-Response-Suppress``,
    list and bulk mail, delivery reports, out-of-office subjects, our own messages looping back)."""
    from resdesk.intake.classify import no_automatic_reply
    from resdesk.intake.message import parse_message

    return no_automatic_reply(parse_message(message.as_bytes()), set(our_addresses)) is not None


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
