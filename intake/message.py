"""A raw RFC 5322 message read into what classification, correlation and sender checks need.

``parse_message`` is pure (bytes in, ``InboundMessage`` out) and tolerant: bad MIME
boundaries, unknown charsets, 8-bit bytes in headers and broken ``winmail.dat``
attachments are recorded in ``defects`` (sentences a person can act on) instead of raised.
Only a message with nothing readable in it (empty, no header at all, nesting deeper than
the parser can follow, or larger than the caller's limit) raises ``UnreadableMessage``. Every header text it exposes has passed ``safe_header_text``, so a
value copied from inbound mail into outbound mail cannot start a new header.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage

from resdesk.intake.documents import DOCUMENT_EXTENSIONS, DOCUMENT_TYPES, document_extension
from resdesk.intake.headers import Address, HeaderReader, reading_policy, safe_header_text
from resdesk.intake.mimetext import html_to_text, part_text
from resdesk.intake.replies import new_part
from resdesk.intake.outlook_msg import OutlookMsgError, is_outlook_msg, outlook_message
from resdesk.intake.winmail import WinmailError, read_winmail
from resdesk.errors import IntakeError

__all__ = [
    "RESDESK_CASE_HEADER", "RESDESK_NOTICE_HEADER", "Address", "Attachment", "InboundMessage",
    "UnreadableMessage", "parse_message", "safe_header_text",
]

#: The header the product puts on every message it sends, carrying the case reference.
RESDESK_CASE_HEADER = "X-Resdesk-Case"
#: The header the product puts on every message it sends, naming the notice it carries.
RESDESK_NOTICE_HEADER = "X-Resdesk-Notice"


class UnreadableMessage(IntakeError):
    """Nothing usable could be read from a message's bytes."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"The message could not be read: {reason}.")


@dataclass(frozen=True)
class Attachment:
    """A file carried by the message. ``inside`` names the ``winmail.dat`` it came out of."""

    filename: str
    content_type: str
    data: bytes
    inside: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    """What intake needs from one received message; header texts are already made safe."""

    subject: str
    sender: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    auto_submitted: str | None
    precedence: str | None
    return_path: str | None
    return_path_present: bool
    content_type: str
    resdesk_case: str | None
    resdesk_notice: str | None
    body_text: str
    attachments: tuple[Attachment, ...]
    authentication_results: tuple[str, ...]
    defects: tuple[str, ...] = field(default=())
    list_id: str | None = None
    flaws: tuple[str, ...] = field(default=())
    # Headers auto-responders set (name: value), for ``classify.no_automatic_reply``.
    auto_reply_headers: tuple[tuple[str, str], ...] = field(default=())
    # The Date header as a time (naive when it names no zone); None when missing or unreadable.
    date: datetime | None = None

    @cached_property
    def new_text(self) -> str:
        """The body without the earlier mail a reply quotes (``replies.new_part``): what this
        message itself says. Labels and ``Outcome:`` lines are read from this."""
        return new_part(self.body_text, self.subject, is_reply=bool(self.in_reply_to or self.references))

    @property
    def return_path_empty(self) -> bool:
        """True when a ``Return-Path: <>`` says the message is a bounce or other automatic mail."""
        return self.return_path_present and not (self.return_path or "").strip("<> ")

    @property
    def is_delivery_report(self) -> bool:
        """True for ``multipart/report`` (delivery status or read receipts)."""
        return self.content_type == "multipart/report"

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """In-Reply-To then References, newest first, without repeats."""
        seen: dict[str, None] = {}
        for message_id in (*self.in_reply_to, *reversed(self.references)):
            seen.setdefault(message_id, None)
        return tuple(seen)

def parse_message(raw: bytes, *, max_bytes: int | None = None) -> InboundMessage:
    """Read a received message; record oddities in ``defects``, raise only if unreadable."""
    if not isinstance(raw, (bytes, bytearray)):
        raise UnreadableMessage(f"expected bytes, got {type(raw).__name__}")
    if max_bytes is not None and len(raw) > max_bytes:
        raise UnreadableMessage(f"it is {len(raw)} bytes, larger than the limit of {max_bytes}")
    if not raw.strip():
        raise UnreadableMessage("it is empty")
    try:
        msg = message_from_bytes(bytes(raw), policy=reading_policy())
    except Exception as exc:  # the stdlib parser is meant not to raise; be sure
        raise UnreadableMessage(f"the parser failed ({type(exc).__name__}: {exc})") from None
    if not msg.keys():
        raise UnreadableMessage("it has no headers")

    defects: list[str] = [_describe(d) for d in msg.defects]
    flaws: list[str] = []
    headers = HeaderReader(msg, defects, flaws)
    sender_list = headers.addresses("From")
    return_path = headers.text("Return-Path")
    body_text, attachments = _body_and_attachments(msg, defects, flaws)
    for part in msg.walk():
        if part is not msg:
            harmless = _is_harmless_flaw_of(part)
            for defect in part.defects:
                (flaws if harmless(defect) else defects).append(_describe(defect))
    return InboundMessage(
        subject=headers.text("Subject") or "",
        sender=sender_list[0] if sender_list else None,
        to=tuple(headers.addresses("To")),
        cc=tuple(headers.addresses("Cc")),
        message_id=next(iter(headers.message_ids("Message-ID")), None),
        in_reply_to=tuple(headers.message_ids("In-Reply-To")),
        references=tuple(headers.message_ids("References")),
        auto_submitted=_lower(headers.text("Auto-Submitted")),
        precedence=_lower(headers.text("Precedence")),
        return_path=return_path,
        return_path_present=return_path is not None,
        content_type=_content_type(msg, defects),
        resdesk_case=headers.text(RESDESK_CASE_HEADER),
        resdesk_notice=headers.text(RESDESK_NOTICE_HEADER),
        body_text=body_text,
        attachments=tuple(attachments),
        authentication_results=tuple(headers.all_texts("Authentication-Results")),
        defects=tuple(dict.fromkeys(defects)),
        flaws=tuple(dict.fromkeys(flaws)),
        list_id=headers.text("List-Id"),
        auto_reply_headers=tuple(
            (name, value) for name in AUTO_REPLY_HEADERS for value in headers.all_texts(name)[:1]
        ),
        date=headers.stated_date(),
    )


#: Headers that mark mail an auto-responder sent, or mail that asks for no automatic reply.
AUTO_REPLY_HEADERS = ("X-Auto-Response-Suppress", "X-Autoreply", "X-Autorespond", "X-Auto-Reply", "List-Unsubscribe")


def _lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None


_DEFECT_SENTENCES = {
    "StartBoundaryNotFoundDefect": "the multipart boundary is never found, so parts may be missing",
    "CloseBoundaryNotFoundDefect": "the last MIME part is never closed, so the message may be cut short",
    "NoBoundaryInMultipartDefect": "a multipart part declares no boundary",
    "MultipartInvariantViolationDefect": "a multipart part has no readable parts",
    "MissingHeaderBodySeparatorDefect": "a header line is malformed (no blank line before the body)",
    "FirstHeaderLineIsContinuationDefect": "the first header line is a continuation line",
    "MisplacedEnvelopeHeaderDefect": "an mbox 'From ' line sits among the headers",
    "InvalidBase64PaddingDefect": "a part's base64 encoding is badly padded",
    "InvalidBase64CharactersDefect": "a part's base64 encoding has invalid characters",
    "InvalidBase64LengthDefect": "a part's base64 encoding has an impossible length",
    "UndecodableBytesDefect": "a part has bytes that cannot be decoded",
    "InvalidMultipartContentTransferEncodingDefect": "a multipart part declares a content transfer encoding",
}


def _describe(defect: object) -> str:
    """A defect the email package found, as a sentence with its class name for reference."""
    name = type(defect).__name__
    sentence = _DEFECT_SENTENCES.get(name) or str(defect) or name
    return f"{sentence} ({name})"


_ENCODING_DEFECTS = ("InvalidBase64PaddingDefect", "InvalidBase64CharactersDefect", "InvalidBase64LengthDefect")


def _is_harmless_flaw_of(part: EmailMessage):
    """Whether a defect of ``part`` is harmless: a base64 fault in a part that cannot be a form
    (text, a picture, anything but a document) loses at most a few characters of it."""
    name = (part.get_filename() or "").lower()
    document = part.get_content_type() in DOCUMENT_TYPES or name.endswith(DOCUMENT_EXTENSIONS) or (
        part.get_content_type() == "application/octet-stream"
    )
    return lambda defect: not document and type(defect).__name__ in _ENCODING_DEFECTS


def _content_type(msg: EmailMessage, defects: list[str]) -> str:
    try:
        return msg.get_content_type()
    except Exception as exc:
        defects.append(f"unreadable Content-Type ({exc})")
        return "text/plain"


def _body_and_attachments(
    msg: EmailMessage, defects: list[str], flaws: list[str]
) -> tuple[str, list[Attachment]]:
    """The body — every inline text part in order (plain preferred over HTML in each
    alternative, HTML made text) — and every file."""
    try:
        body_parts = _body_parts(msg)
    except Exception as exc:
        defects.append(f"the body could not be located ({type(exc).__name__})")
        body_parts = []
    texts = []
    for part in body_parts:
        text = part_text(part, flaws)
        texts.append(html_to_text(text) if part.get_content_type() == "text/html" else text)
    body = "\n".join(t for t in texts if t.strip())
    attachments: list[Attachment] = []
    winmail_body: str | None = None
    chosen = {id(p) for p in body_parts}
    for part in _leaves(msg, defects):
        if id(part) in chosen:
            continue
        for found, text in _attachments_of(part, defects, flaws):
            attachments.append(found)
            winmail_body = winmail_body or text
        if (
            not body_parts
            and not part.get_filename()
            and part.get_content_maintype() in ("text", "multipart")
            and part.get_content_disposition() != "attachment"
        ):
            body = body or part_text(part, flaws)
    if not body.strip() and winmail_body:
        body = winmail_body
    return body, attachments


def _is_body_text(part: EmailMessage) -> bool:
    return (
        part.get_content_type() in ("text/plain", "text/html")
        and part.get_content_disposition() != "attachment"
        and not part.get_filename()
    )


def _body_parts(part: EmailMessage, depth: int = 0) -> list[EmailMessage]:
    """The parts whose text is the body, in order: a multipart/alternative gives its plain
    (else HTML, else first readable) alternative, other multiparts every inline text part."""
    if depth > 400 or part.get_content_maintype() == "message":
        return []
    if not part.is_multipart():
        return [part] if _is_body_text(part) and (depth == 0 or part.get_content_maintype() == "text") else []
    subparts = list(part.iter_parts())
    if part.get_content_subtype() == "alternative":
        for wanted in ("text/plain", "text/html"):
            for sub in subparts:
                if not sub.is_multipart() and sub.get_content_type() == wanted and _is_body_text(sub):
                    return [sub]
        for sub in subparts:
            found = _body_parts(sub, depth + 1)
            if found:
                return found
        return []
    found: list[EmailMessage] = []
    for sub in subparts:
        found.extend(_body_parts(sub, depth + 1))
    return found


def _leaves(msg: EmailMessage, defects: list[str], depth: int = 0):
    """Every non-multipart part; attached messages are kept whole, not opened."""
    if depth > 50:
        defects.append("MIME parts nested more than 50 deep; the rest is ignored")
        return
    if msg.is_multipart() and msg.get_content_maintype() == "multipart":
        for sub in msg.iter_parts():
            yield from _leaves(sub, defects, depth + 1)
    elif depth > 0 or not msg.is_multipart():
        yield msg


def _attachments_of(
    part: EmailMessage, defects: list[str], flaws: list[str]
) -> list[tuple[Attachment, str | None]]:
    content_type = part.get_content_type()
    filename = safe_header_text(part.get_filename() or "")
    if content_type in ("message/rfc822", "message/global"):
        inner = part.get_payload()
        data = b""
        if isinstance(inner, list) and inner:
            try:  # compat32 writes the headers back as they came, without refolding them
                data = inner[0].as_bytes(policy=policy.compat32)
            except Exception as exc:
                defects.append(f"the attached message could not be written back out ({type(exc).__name__})")
        return [(Attachment(filename or "attached-message.eml", content_type, data), None)]
    if part.is_multipart() or part.get_content_maintype() == "multipart":
        return []  # a multipart whose boundary is missing is read as the body instead
    if part.get_content_type() in ("text/plain", "text/html") and not filename and (
        part.get_content_disposition() != "attachment"
    ):
        return []
    try:
        data = part.get_payload(decode=True) or b""
    except Exception as exc:
        defects.append(f"the attachment {filename or content_type} could not be decoded ({exc})")
        data = b""
    if is_outlook_msg(filename, content_type, data):
        name = filename or "attached-message.msg"
        try:  # an Outlook message is read like the message/rfc822 it carries
            return [(Attachment(name, "message/rfc822", outlook_message(data, filename=name, flaws=flaws)), None)]
        except OutlookMsgError as exc:
            flaws.append(str(exc))  # kept as a file; the rest of the message is still read
            return [(Attachment(name, content_type, data), None)]
    name = _name_for(filename, content_type, data, part.get_content_subtype(), flaws)
    whole = Attachment(name, content_type, data)
    if name.lower() != "winmail.dat" and content_type != "application/ms-tnef":
        return [(whole, None)]
    try:
        content = read_winmail(data, filename=name)
    except WinmailError as exc:
        defects.append(str(exc))
        return [(whole, None)]
    flaws.extend(content.flaws)
    found = [(whole, None)]
    text = content.body_text or (html_to_text(content.body_html) if content.body_html else None)
    for item in content.files:
        found.append((Attachment(safe_header_text(item.filename), _guess_type(item.filename), item.data, inside=name), text))
    if not content.files:
        found[0] = (whole, text)
    return found


def _name_for(filename: str, content_type: str, data: bytes, subtype: str, flaws: list[str]) -> str:
    """The attachment's file name; a document whose name is missing or undecodable, or that is
    declared only as octet-stream, is named by its content (``attachment.docx``)."""
    if filename.startswith("=?"):  # an encoded-word left unquoted in the parameter (RFC 2047 §5 forbids it)
        try:
            filename = safe_header_text(str(make_header(decode_header(filename))))
        except (ValueError, LookupError, UnicodeError):
            pass
    if filename.lower().endswith(DOCUMENT_EXTENSIONS) or content_type in DOCUMENT_TYPES:
        return filename or f"attachment.{subtype}"
    sniffed = document_extension(data)
    if sniffed is None:
        return filename or f"attachment.{subtype}"
    named = (filename or "attachment") + sniffed
    flaws.append(f"the attachment {filename or '(no name)'} is a {sniffed} file by its content; read as {named}")
    return named


def _guess_type(filename: str) -> str:
    import mimetypes

    return mimetypes.guess_type(filename, strict=False)[0] or "application/octet-stream"
