"""One sample message and how it is delivered into a partnership's shared inbox.

A ``Mail`` holds what the sender wrote (headers as their client wrote them, the body, the
attachments) and what the product is expected to make of it (``expect``). ``deliver``
adds what the receiving server adds (Return-Path, Received, Authentication-Results) and
returns the message bytes and the delivery time that names its Maildir file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import mime

# November and December are GMT in Europe/London, so local times here are UTC.
GMT = timezone.utc


@dataclass(frozen=True)
class Mailbox:
    """A partnership's shared inbox as the demo configures it."""

    protocol: str
    business_unit: tuple[str, str]
    mx: str
    allowed_sender_domains: tuple[str, ...]


@dataclass
class Mail:
    key: str
    sent: str
    sender: tuple[str, str]
    to: list[tuple[str, str]]
    subject: str
    body: str | mime.Part
    expect: dict
    cc: list[tuple[str, str]] = field(default_factory=list)
    reply_to: str | None = None
    attachments: list[mime.Part] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    mailer: str | None = "Microsoft Outlook 16.0"
    return_path: str | None = None
    auth: str | None = None
    html: bool = False

    @property
    def sent_at(self) -> datetime:
        return datetime.strptime(self.sent, "%Y-%m-%d %H:%M:%S").replace(tzinfo=GMT)

    @property
    def domain(self) -> str:
        return self.sender[1].rsplit("@", 1)[1].lower()

    @property
    def message_id(self) -> str:
        return f"<{self.key}@{self.domain}>"


def nhs_number(first_nine: str) -> str:
    """A 10-digit NHS number with a valid Modulus 11 check digit, spaced 3-3-4."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(first_nine))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    if check == 10:
        raise ValueError(f"{first_nine} has no valid check digit")
    digits = first_nine + str(check)
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def _addresses(people: list[tuple[str, str]]) -> str:
    return ",\n ".join(mime.address(name, addr) for name, addr in people)


def _body(mail: Mail, boundary: str) -> mime.Part:
    if isinstance(mail.body, mime.Part):
        return mail.body
    main = mime.text(mail.body)
    if mail.html:
        html = "<html><body>" + "".join(
            f"<p>{line}</p>" if line else "<p>&nbsp;</p>" for line in mail.body.split("\n")
        ) + "</body></html>"
        main = mime.multipart("alternative", [main, mime.text(html, "html")], boundary + "_alt")
    if not mail.attachments:
        return main
    return mime.multipart("mixed", [main, *mail.attachments], boundary)


def deliver(mail: Mail, mailbox: Mailbox, by_key: dict[str, Mail], seq: int) -> tuple[bytes, datetime]:
    """The message as it lands in ``mailbox`` and the instant it lands."""
    received = mail.sent_at + timedelta(seconds=4 + seq % 9)
    headers = [
        ("Return-Path", mail.return_path if mail.return_path is not None else f"<{mail.sender[1]}>"),
        ("Delivered-To", mailbox.business_unit[1]),
        (
            "Received",
            f"from mail.{mail.domain} (mail.{mail.domain} [192.0.2.{10 + seq % 200}])\n"
            f"\tby {mailbox.mx} with ESMTPS id {mail.key.upper().replace('-', '')}\n"
            f"\tfor <{mailbox.business_unit[1]}>; {format_datetime(received)}",
        ),
        (
            "Authentication-Results",
            mail.auth
            or f"{mailbox.mx};\n\tspf=pass smtp.mailfrom={mail.domain};\n"
            f"\tdkim=pass header.d={mail.domain};\n\tdmarc=pass header.from={mail.domain}",
        ),
        ("From", mime.address(*mail.sender)),
        ("To", _addresses(mail.to)),
    ]
    if mail.cc:
        headers.append(("Cc", _addresses(mail.cc)))
    headers += [
        ("Subject", mail.subject),
        ("Date", format_datetime(mail.sent_at)),
        ("Message-ID", mail.message_id),
    ]
    if mail.reply_to:
        parent = by_key[mail.reply_to]
        chain = _references(parent, by_key)
        headers.append(("In-Reply-To", parent.message_id))
        headers.append(("References", "\n ".join(chain)))
    headers += mail.headers
    if mail.mailer:
        headers.append(("X-Mailer", mail.mailer))
    headers.append(("Content-Language", "en-GB"))
    return mime.message(headers, _body(mail, f"----=_Part_{mail.key}")), received


def _references(parent: Mail, by_key: dict[str, Mail]) -> list[str]:
    chain = [parent.message_id]
    while parent.reply_to:
        parent = by_key[parent.reply_to]
        chain.insert(0, parent.message_id)
    return chain


KINDS = (
    "stage-summary", "stage-3-notification", "filled-template", "reply",
    "automatic", "spoofed", "hostile", "not-protocol",
)
OUTCOMES = ("resolved", "escalated", "actions-agreed", "unreadable")
REASONS = ("hostile-attachment", "spoofed-sender", "form-error", "answers-quarantined")
_PROTOCOL_MAIL = ("stage-summary", "stage-3-notification", "filled-template")


def expect(
    kind: str,
    *,
    thread: str | None = None,
    stage: int | None = None,
    outcome: str | None = None,
    child: str | None = None,
    template: dict | None = None,
    automatic: str | None = None,
    reason: str | None = None,
    features: tuple[str, ...] = (),
    notes: str = "",
    acknowledge: bool | None = None,
) -> dict:
    """What the product should make of a message (see README.md for each key)."""
    assert kind in KINDS, kind
    assert outcome is None or outcome in OUTCOMES, outcome
    assert reason is None or reason in REASONS, reason
    quarantined = reason is not None
    return {
        "kind": kind,
        "stage": stage,
        "outcome": outcome,
        "template": template,
        "automatic": automatic,
        "thread": thread,
        "child": child,
        # Mail that is not protocol mail is left where it is (the intake issue); the rest is filed.
        "disposition": "quarantine" if quarantined else ("left" if kind == "not-protocol" else "processed"),
        "quarantine_reason": reason,
        "acknowledge": acknowledge if acknowledge is not None else (
            None if kind == "reply" else (kind in _PROTOCOL_MAIL and not quarantined)
        ),
        "features": sorted(features),
        "notes": notes,
    }


def template(kind: str, fmt: str, filename: str | None = None) -> dict:
    return {"kind": kind, "format": fmt, "filename": filename}
