"""An Outlook ``.msg`` file, as the internet message it carries ([MS-OXMSG]).

Outlook saves a message as a Compound File (``olefile`` reads the container). Its properties
are streams named ``__substg1.0_<tag>`` — the tag is the property id and type in hex, ``001F``
for UTF-16LE text, ``001E`` for 8-bit text, ``0102`` for bytes — plus fixed-size values in the
``__properties_version1.0`` stream (a header, then 16-byte entries: tag, flags, 8-byte value).
Recipients are ``__recip_version1.0_#XXXXXXXX`` storages and attachments
``__attach_version1.0_#XXXXXXXX`` storages, each with properties of its own.

``outlook_message`` turns one into RFC 5322 bytes — subject, body, sender, recipients, submit
time (``PR_CLIENT_SUBMIT_TIME``), Message-ID and the attached files — so intake reads it like a
forwarded ``message/rfc822``. The body is the plain one, else the HTML one, else the text of the
compressed RTF body (``PR_RTF_COMPRESSED``, read by ``rtfbody``) that a message written in
Outlook's "Rich Text" mode may carry alone.

A mail dragged into a new mail in Outlook is saved inside it as an embedded message: an
attachment whose ``PR_ATTACH_METHOD`` is ``ATTACH_EMBEDDED_MSG`` (5), the message itself in the
attachment's ``__substg1.0_3701000D`` storage, laid out like the file's own message. It is read
the same way — its subject, body, files and its own embedded messages — and becomes a
``message/rfc822`` part named after it (``<subject>.msg``), so a summary forwarded this way is
found as one forwarded as an attachment is (``forwarded.carried_message``).

Everything is bounded for the whole file, not each message in it: at most ``MAX_BYTES``,
messages nested at most ``limits.MESSAGE_DEPTH`` deep (the ``.msg`` itself is level 1), at most
``MAX_ATTACHMENTS`` attachments and ``MAX_RECIPIENTS`` recipients in all, each stream at most
its own size limit, and the streams together no more bytes than the file holds (a Compound File
whose streams share sectors would otherwise swell far past its size). olefile reads each
directory entry once, so a storage tree that refers back to itself ends where it loops; an
embedded message left without its property stream that way is refused as damaged. olefile also
walks the tree recursively, so storages nested hundreds deep are refused as too deep to read. A file that
is not a readable Outlook message, or is over a bound, raises ``OutlookMsgError`` naming the
file and the reason, never a bare library exception. An RTF body that cannot be read is a
harmless flaw: the message is still made, with an empty body, and the reason added to ``flaws``.
"""

from __future__ import annotations

import io
import mimetypes
import re
import struct
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

import olefile

from resdesk.errors import IntakeError
from resdesk.intake.limits import MESSAGE_DEPTH
from resdesk.intake.rtfbody import MAX_RTF_STREAM_BYTES, UnreadableRtf, rtf_body_text

__all__ = ["OutlookMsgError", "is_outlook_msg", "outlook_message"]

MAX_BYTES = 25 * 1024 * 1024
MAX_ATTACHMENTS = 100
MAX_RECIPIENTS = 500
MAX_STREAM_BYTES = 20 * 1024 * 1024
MAX_TEXT_BYTES = 2 * 1024 * 1024
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MSG_TYPES = ("application/vnd.ms-outlook", "application/x-msg")

# Property ids ([MS-OXPROPS]).
_SUBJECT, _BODY, _HTML, _RTF_COMPRESSED = 0x0037, 0x1000, 0x1013, 0x1009
_SENDER_NAME, _SENDER_ADDRESS, _SENDER_SMTP = 0x0C1A, 0x0C1F, 0x5D01
_MESSAGE_ID, _IN_REPLY_TO = 0x1035, 0x1042
_CLIENT_SUBMIT_TIME, _DELIVERY_TIME = 0x0039, 0x0E06
_RECIPIENT_TYPE, _DISPLAY_NAME, _EMAIL_ADDRESS, _SMTP_ADDRESS = 0x0C15, 0x3001, 0x3003, 0x39FE
_ATTACH_DATA, _LONG_FILENAME, _FILENAME, _MIME_TAG = 0x3701, 0x3707, 0x3704, 0x370E
_ATTACH_METHOD, _ATTACH_EMBEDDED_MSG = 0x3705, 5
_EMBEDDED_MESSAGE = "__substg1.0_3701000D"  # the storage of an attachment's embedded message
# __properties_version1.0 header sizes ([MS-OXMSG] 2.4.1): the file's message, an embedded one, the rest
_MESSAGE_HEADER, _EMBEDDED_HEADER, _CHILD_HEADER = 32, 24, 8
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=timezone.utc)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class OutlookMsgError(IntakeError):
    """An attached ``.msg`` file could not be read as an Outlook message."""

    def __init__(self, reason: str, *, filename: str):
        self.reason = reason
        self.filename = filename
        super().__init__(f"the attachment {filename} could not be read as an Outlook message: {reason}")


def is_outlook_msg(filename: str, content_type: str, data: bytes) -> bool:
    """Whether an attachment is an Outlook message: named ``.msg`` or typed as one, or a
    Compound File holding a message's property stream."""
    if filename.lower().endswith(".msg") or content_type in _MSG_TYPES:
        return True
    if not data.startswith(_OLE_MAGIC) or len(data) > MAX_BYTES:
        return False
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            return ole.exists("__properties_version1.0") and ole.exists("__substg1.0_0037001F")
    except Exception:  # noqa: BLE001 - a Compound File olefile cannot open is not a message
        return False


def outlook_message(data: bytes, *, filename: str, flaws: list[str] | None = None) -> bytes:
    """The RFC 5322 bytes of the message in ``data`` (see the module docstring); raises
    ``OutlookMsgError``. Why a body was left unread is added to ``flaws``, a sentence each."""
    if len(data) > MAX_BYTES:
        raise OutlookMsgError(f"it is larger than {MAX_BYTES // (1024 * 1024)} MB", filename=filename)
    if not data.startswith(_OLE_MAGIC):
        raise OutlookMsgError("it is not a Compound File (the format Outlook saves messages in)", filename=filename)
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            found = _File(ole, filename, flaws if flaws is not None else [], len(data))
            return _Reader(found).message().as_bytes(policy=SMTP)
    except OutlookMsgError:
        raise
    except RecursionError:  # olefile walks the storage tree recursively: a few hundred levels end it
        raise OutlookMsgError(
            f"its storages nest too deep to be read, far past the {MESSAGE_DEPTH} levels of messages intake "
            "opens; ask the sender to attach the summary or form itself", filename=filename,
        ) from None
    except Exception as exc:  # noqa: BLE001 - olefile raises many kinds on a corrupt file
        raise OutlookMsgError(f"its Compound File is damaged ({type(exc).__name__}: {exc})", filename=filename) from None


class _File:
    """One Compound File being read: what every message in it shares, the bounds included."""

    def __init__(self, ole: olefile.OleFileIO, filename: str, flaws: list[str], size: int):
        self.ole, self.filename, self.flaws = ole, filename, flaws
        self.kids: dict[tuple[str, ...], set[str]] = {}
        for entry in ole.listdir(streams=True, storages=True):
            self.kids.setdefault(tuple(entry[:-1]), set()).add(entry[-1])
        self.bytes_left = size
        self.counted: set[tuple[str, ...]] = set()
        self.left = {"attach": MAX_ATTACHMENTS, "recip": MAX_RECIPIENTS}

    def error(self, reason: str) -> OutlookMsgError:
        return OutlookMsgError(reason, filename=self.filename)

    def has(self, path: tuple[str, ...]) -> bool:
        return path[-1] in self.kids.get(path[:-1], ())

    def read(self, path: tuple[str, ...], limit: int, *, whole: bool = True) -> bytes | None:
        """The stream at ``path`` (None when there is none): refused past ``limit`` bytes when
        ``whole``, else cut there. Each stream counts once against the bytes the file holds."""
        if not self.has(path):
            return None
        name = "/".join(path)
        size = self.ole.get_size(name)
        if size > limit and whole:
            raise self.error(f"its stream {path[-1]} is larger than {limit // 1024} KB")
        if path not in self.counted:
            self.counted.add(path)
            self.bytes_left -= min(size, limit)
            if self.bytes_left < 0:
                raise self.error(
                    "its streams add up to more bytes than the file holds, so its Compound File is damaged "
                    "(streams that share their sectors)"
                )
        return self.ole.openstream(name).read(limit + 1)[:limit]

    def take(self, kind: str, count: int) -> None:
        """Count ``count`` recipient or attachment storages against the whole file's limit."""
        self.left[kind] -= count
        if self.left[kind] < 0:
            limit, noun = (MAX_ATTACHMENTS, "attachments") if kind == "attach" else (MAX_RECIPIENTS, "recipients")
            raise self.error(f"it holds more than {limit} {noun} in all, counting those of the messages embedded in it")

    def damage(self) -> str:
        """What olefile found wrong with the storage tree, as a clause (empty when nothing)."""
        issues = getattr(self.ole, "parsing_issues", [])
        return f" ({issues[0][1]})" if issues else ""


class _Reader:
    """One message in the file: its own (``root`` empty, level 1) or one embedded in it."""

    def __init__(self, file: _File, root: tuple[str, ...] = (), level: int = 1):
        self.file, self.root, self.level = file, root, level
        if not file.has((*root, "__properties_version1.0")):
            if not root:
                raise file.error("it has no property stream, so it is not an Outlook message")
            raise file.error(
                "an attachment in it is marked as an embedded message but holds none, so its Compound File is "
                f"damaged or loops back on itself{file.damage()}"
            )

    def _stream(self, path: list[str], limit: int, *, whole: bool = True) -> bytes | None:
        return self.file.read((*self.root, *path), limit, whole=whole)

    def text(self, prefix: list[str], prop: int) -> str | None:
        wide = self._stream([*prefix, f"__substg1.0_{prop:04X}001F"], MAX_TEXT_BYTES)
        if wide is not None:
            return wide.decode("utf-16-le", errors="replace").split("\x00", 1)[0]
        narrow = self._stream([*prefix, f"__substg1.0_{prop:04X}001E"], MAX_TEXT_BYTES)
        if narrow is None:
            return None
        narrow = narrow.split(b"\x00", 1)[0]
        try:
            return narrow.decode("utf-8")
        except UnicodeDecodeError:
            return narrow.decode("cp1252", errors="replace")

    def fixed(self, prefix: list[str], tag: int) -> int | None:
        """The 8-byte value of the fixed-size property ``tag`` (id and type) of this message, or
        of its recipient or attachment storage ``prefix``; None when it has none."""
        table = self._stream([*prefix, "__properties_version1.0"], 64 * 1024) or b""
        if prefix:
            start = _CHILD_HEADER
        elif not self.root:
            start = _MESSAGE_HEADER
        else:  # [MS-OXMSG] gives an embedded message 24 bytes; some writers give it the top level's 32
            start = _EMBEDDED_HEADER if (len(table) - _EMBEDDED_HEADER) % 16 == 0 else _MESSAGE_HEADER
        for offset in range(start, len(table) - 15, 16):
            found, _flags, value = struct.unpack_from("<IIQ", table, offset)
            if found == tag:
                return value
        return None

    def time(self, prop: int) -> datetime | None:
        value = self.fixed([], prop << 16 | 0x0040)
        if not value:
            return None
        try:
            return _FILETIME_EPOCH + timedelta(microseconds=value // 10)
        except OverflowError:
            return None

    def _children(self, kind: str) -> list[str]:
        names = sorted(n for n in self.file.kids.get(self.root, ()) if n.startswith(f"__{kind}_version1.0_#"))
        self.file.take(kind, len(names))
        return names

    def message(self) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = _header(self.text([], _SUBJECT) or "")
        address = self.text([], _SENDER_SMTP) or self.text([], _SENDER_ADDRESS) or ""
        if "@" in address:
            mail["From"] = formataddr((_header(self.text([], _SENDER_NAME) or ""), _header(address)))
        to, cc = [], []
        for storage in self._children("recip"):
            address = self.text([storage], _SMTP_ADDRESS) or self.text([storage], _EMAIL_ADDRESS) or ""
            if "@" in address:
                entry = formataddr((_header(self.text([storage], _DISPLAY_NAME) or ""), _header(address)))
                kind = self.fixed([storage], _RECIPIENT_TYPE << 16 | 0x0003)
                (cc if kind is not None and kind & 0xFFFFFFFF == 2 else to).append(entry)
        if to:
            mail["To"] = ", ".join(to)
        if cc:
            mail["Cc"] = ", ".join(cc)
        when = self.time(_CLIENT_SUBMIT_TIME) or self.time(_DELIVERY_TIME)
        if when is not None:
            mail["Date"] = format_datetime(when)
        for name, prop in (("Message-ID", _MESSAGE_ID), ("In-Reply-To", _IN_REPLY_TO)):
            value = _header(self.text([], prop) or "")
            if re.fullmatch(r"<[^<>\s@]+@[^<>\s@]+>", value):
                mail[name] = value
        body = self.text([], _BODY)
        if body is not None and body.strip():
            mail.set_content(body)
        else:
            html = self._stream([f"__substg1.0_{_HTML:04X}0102"], MAX_TEXT_BYTES)
            html_text = html.decode("utf-8", errors="replace") if html is not None else self.text([], _HTML)
            if html_text:
                mail.set_content(html_text, subtype="html")
            else:
                mail.set_content(self._rtf_body())
        for storage in self._children("attach"):
            method = self.fixed([storage], _ATTACH_METHOD << 16 | 0x0003)
            if method is not None and method & 0xFFFFFFFF == _ATTACH_EMBEDDED_MSG:
                self._attach_message(mail, storage)
                continue
            data = self._stream([storage, f"__substg1.0_{_ATTACH_DATA:04X}0102"], MAX_STREAM_BYTES)
            if data is None:
                continue  # an OLE object, not a file
            name = _header(self.text([storage], _LONG_FILENAME) or self.text([storage], _FILENAME) or "attachment")
            kind = self.text([storage], _MIME_TAG) or mimetypes.guess_type(name, strict=False)[0]
            maintype, _, subtype = (kind or "application/octet-stream").partition("/")
            if maintype in ("text", "message", "multipart") or not re.fullmatch(r"[\w.+-]+", maintype + subtype):
                maintype, subtype = "application", "octet-stream"
            mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        return mail

    def _attach_message(self, mail: EmailMessage, storage: str) -> None:
        """Read the message embedded in attachment ``storage`` and attach it as ``message/rfc822``."""
        if self.level >= MESSAGE_DEPTH:
            raise self.file.error(
                f"it nests messages more than {MESSAGE_DEPTH} deep (a mail in a mail in a mail…); ask the sender "
                "to attach the summary or form itself"
            )
        inner = _Reader(self.file, (*self.root, storage, _EMBEDDED_MESSAGE), self.level + 1).message()
        name = _header(
            self.text([storage], _LONG_FILENAME) or self.text([storage], _FILENAME)
            or self.text([storage], _DISPLAY_NAME) or inner["Subject"] or "attached message"
        )
        if not name.lower().endswith((".msg", ".eml")):
            name += ".msg"
        mail.add_attachment(inner, filename=name)

    def _rtf_body(self) -> str:
        """The text of the compressed RTF body, or "" with the reason in ``flaws``."""
        try:  # a longer stream is refused by the size its header declares
            data = self._stream([f"__substg1.0_{_RTF_COMPRESSED:04X}0102"], MAX_RTF_STREAM_BYTES, whole=False)
            return rtf_body_text(data) if data is not None else ""
        except UnreadableRtf as exc:
            self.file.flaws.append(exc.flaw(self.file.filename, "; the rest of the message is read"))
            return ""


def _header(value: str) -> str:
    """A property's text made safe for a header: no control characters, bounded."""
    return _CONTROL.sub(" ", value).strip()[:998]
