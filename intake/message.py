"""A raw RFC 5322 message read into what classification, correlation and sender checks need.

``parse_message`` is pure (bytes in, ``InboundMessage`` out) and tolerant: bad MIME
boundaries, unknown charsets, 8-bit bytes in headers and broken ``winmail.dat``
attachments are recorded in ``defects`` instead of raised. Only a message with nothing
readable in it (no header at all, or larger than the caller's limit) raises
``UnreadableMessage``. Every header text it exposes has passed ``safe_header_text``, so a
value copied from inbound mail into outbound mail cannot start a new header.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from email import errors, message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage

from intake.mimetext import html_to_text, part_text
from intake.winmail import WinmailError, read_winmail
from resdesk.errors import IntakeError

#: The header the product puts on every message it sends, carrying the case reference.
RESDESK_CASE_HEADER = "X-Resdesk-Case"
#: The header the product puts on every message it sends, naming the notice it carries.
RESDESK_NOTICE_HEADER = "X-Resdesk-Notice"

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_ANGLE_ADDRESS = re.compile(r"<([^<>]*)>")
_PLAIN_ADDRESS = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")
_CONTROL_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


class UnreadableMessage(IntakeError):
    """Nothing usable could be read from a message's bytes."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"The message could not be read: {reason}.")


@dataclass(frozen=True)
class Address:
    """A mailbox from an address header: the display name as written, and the address."""

    name: str
    address: str

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2].lower()


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


def safe_header_text(value: str) -> str:
    """Make text from inbound mail safe to put in an outbound header.

    Removes CR, LF and every other control, format or separator character (a header
    injection needs a line break, and some mailers treat U+2028 or NEL as one), replaces
    undecodable characters, and folds runs of whitespace into one space.
    """
    cleaned = []
    for char in value:
        category = unicodedata.category(char)
        if category in _CONTROL_CATEGORIES and char != "\u200d":
            cleaned.append(" ")
        elif category == "Zs":
            cleaned.append(" ")
        else:
            cleaned.append(char)
    return " ".join("".join(cleaned).split())


def parse_message(raw: bytes, *, max_bytes: int | None = None) -> InboundMessage:
    """Read a received message; record oddities in ``defects``, raise only if unreadable."""
    if not isinstance(raw, (bytes, bytearray)):
        raise UnreadableMessage(f"expected bytes, got {type(raw).__name__}")
    if max_bytes is not None and len(raw) > max_bytes:
        raise UnreadableMessage(f"it is {len(raw)} bytes, larger than the limit of {max_bytes}")
    if not raw.strip():
        raise UnreadableMessage("it is empty")
    try:
        msg = message_from_bytes(bytes(raw), policy=policy.default)
    except Exception as exc:  # the stdlib parser is meant not to raise; be sure
        raise UnreadableMessage(f"the parser failed ({type(exc).__name__}: {exc})") from None
    if not msg.keys():
        raise UnreadableMessage("it has no headers")

    defects: list[str] = [_describe(d) for d in msg.defects]
    headers = _Headers(msg, defects)
    sender_list = headers.addresses("From")
    return_path = headers.text("Return-Path")
    body_text, attachments = _body_and_attachments(msg, defects)
    for part in msg.walk():
        if part is not msg:
            defects.extend(_describe(d) for d in part.defects)
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
    )


def _lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None


def _describe(defect: object) -> str:
    text = str(defect) or type(defect).__name__
    return f"{type(defect).__name__}: {text}" if type(defect).__name__ not in text else text


def _content_type(msg: EmailMessage, defects: list[str]) -> str:
    try:
        return msg.get_content_type()
    except Exception as exc:
        defects.append(f"unreadable Content-Type ({exc})")
        return "text/plain"


class _Headers:
    """Header access that never raises: 8-bit bytes are decoded, parse failures recorded."""

    def __init__(self, msg: EmailMessage, defects: list[str]):
        self._raw: dict[str, list[str]] = {}
        for name, value in msg.raw_items():
            self._raw.setdefault(name.lower(), []).append(value)
        self._defects = defects

    def _values(self, name: str) -> list[object]:
        return [parsed for _, parsed in self._pairs(name)]

    def _pairs(self, name: str) -> list[tuple[str, object]]:
        """(unfolded raw text, parsed header) for every occurrence of ``name``."""
        pairs: list[tuple[str, object]] = []
        for raw in self._raw.get(name.lower(), []):
            text = raw if isinstance(raw, str) else str(raw)
            if any("\udc80" <= c <= "\udcff" for c in text):
                text = _decode_8bit(text)
                self._defects.append(f"8-bit characters in the {name} header")
            text = "".join(text.splitlines())
            try:
                pairs.append((text, policy.default.header_fetch_parse(name, text)))
            except Exception as exc:
                self._defects.append(f"unparseable {name} header ({type(exc).__name__})")
                pairs.append((text, text))
        return pairs

    def text(self, name: str) -> str | None:
        texts = self.all_texts(name)
        return texts[0] if texts else None

    def all_texts(self, name: str) -> list[str]:
        return [safe_header_text(str(value)) for value in self._values(name)]

    def addresses(self, name: str) -> list[Address]:
        """Mailboxes in an address header. A malformed header is read the way mail programs
        show it: the last <angle address> of each item is the address and the rest its
        display name, so "jane@agency.example <evil@x.example>" is from evil@x.example."""
        found: list[Address] = []
        for text, value in self._pairs(name):
            items: list[tuple[str, str]] = []
            try:
                if any(isinstance(d, errors.InvalidHeaderDefect) for d in value.defects):  # type: ignore[attr-defined]
                    raise ValueError("malformed")
                items = [(i.display_name, i.addr_spec) for i in value.addresses]  # type: ignore[attr-defined]
            except Exception:
                self._defects.append(f"malformed {name} header; read loosely")
                items = _loose_addresses(_decode_words(text))
            for display, address in items:
                if address and address != "<>":
                    found.append(Address(safe_header_text(display), safe_header_text(address)))
        return found

    def message_ids(self, name: str) -> list[str]:
        ids: list[str] = []
        for value in self._values(name):
            text = str(value)
            tokens = _MESSAGE_ID.findall(text)
            if not tokens and text.strip() and "@" in text and len(text.split()) == 1:
                tokens = [f"<{text.strip()}>"]  # seen from some mailers: an id without brackets
            ids.extend(safe_header_text(t) for t in tokens)
        return list(dict.fromkeys(ids))


def _decode_words(text: str) -> str:
    try:
        return str(make_header(decode_header(text)))
    except Exception:
        return text


def _split_items(text: str) -> list[str]:
    """Split an address list at commas outside quotes and angle brackets."""
    items, current, quoted, angle = [], [], False, 0
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == "<" and not quoted:
            angle += 1
        elif char == ">" and not quoted and angle:
            angle -= 1
        if char == "," and not quoted and not angle:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return items


def _loose_addresses(text: str) -> list[tuple[str, str]]:
    found = []
    for item in _split_items(text):
        item = item.strip()
        angles = _ANGLE_ADDRESS.findall(item)
        if angles:
            address = angles[-1].strip()
            display = item[: item.rfind("<")].strip().strip('"').strip()
        else:
            address, display = item.strip('"').strip(), ""
        if _PLAIN_ADDRESS.fullmatch(address):
            found.append((display, address))
    return found


def _decode_8bit(text: str) -> str:
    data = text.encode("ascii", errors="surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _body_and_attachments(msg: EmailMessage, defects: list[str]) -> tuple[str, list[Attachment]]:
    """The plain-text body (HTML made crude text if there is no text part) and every file."""
    try:
        body_part = msg.get_body(preferencelist=("plain", "html"))
    except Exception as exc:
        defects.append(f"the body could not be located ({type(exc).__name__})")
        body_part = None
    body = ""
    if body_part is not None:
        body = part_text(body_part, defects)
        if body_part.get_content_type() == "text/html":
            body = html_to_text(body)
    attachments: list[Attachment] = []
    winmail_body: str | None = None
    for part in _leaves(msg, defects):
        if part is body_part:
            continue
        for found, text in _attachments_of(part, defects):
            attachments.append(found)
            winmail_body = winmail_body or text
        if (
            body_part is None
            and not part.get_filename()
            and part.get_content_maintype() in ("text", "multipart")
            and part.get_content_disposition() != "attachment"
        ):
            body = body or part_text(part, defects)
    if not body.strip() and winmail_body:
        body = winmail_body
    return body, attachments


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


def _attachments_of(part: EmailMessage, defects: list[str]) -> list[tuple[Attachment, str | None]]:
    content_type = part.get_content_type()
    filename = safe_header_text(part.get_filename() or "")
    if content_type in ("message/rfc822", "message/global"):
        inner = part.get_payload()
        data = inner[0].as_bytes() if isinstance(inner, list) and inner else b""
        return [(Attachment(filename or "attached-message.eml", content_type, data), None)]
    if part.is_multipart() or part.get_content_maintype() == "multipart":
        return []  # a multipart whose boundary is missing is read as the body instead
    if part.get_content_maintype() == "text" and not filename and part.get_content_disposition() != "attachment":
        return []
    try:
        data = part.get_payload(decode=True) or b""
    except Exception as exc:
        defects.append(f"the attachment {filename or content_type} could not be decoded ({exc})")
        data = b""
    name = filename or f"attachment.{part.get_content_subtype()}"
    whole = Attachment(name, content_type, data)
    if name.lower() != "winmail.dat" and content_type != "application/ms-tnef":
        return [(whole, None)]
    try:
        content = read_winmail(data, filename=name)
    except WinmailError as exc:
        defects.append(str(exc))
        return [(whole, None)]
    found = [(whole, None)]
    text = content.body_text or (html_to_text(content.body_html) if content.body_html else None)
    for item in content.files:
        found.append((Attachment(safe_header_text(item.filename), _guess_type(item.filename), item.data, inside=name), text))
    if not content.files:
        found[0] = (whole, text)
    return found


def _guess_type(filename: str) -> str:
    import mimetypes

    return mimetypes.guess_type(filename, strict=False)[0] or "application/octet-stream"
