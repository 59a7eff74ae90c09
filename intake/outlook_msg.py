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
Outlook's "Rich Text" mode may carry alone. Everything is bounded (file size, counts, each
stream's size); a file that is not a readable Outlook message raises ``OutlookMsgError`` naming
the file and the reason, never a bare library exception. An RTF body that cannot be read is a
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
_MESSAGE_HEADER, _CHILD_HEADER = 32, 8  # __properties_version1.0 header sizes ([MS-OXMSG] 2.4.1)
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
            return _Reader(ole, filename, flaws if flaws is not None else []).message().as_bytes(policy=SMTP)
    except OutlookMsgError:
        raise
    except Exception as exc:  # noqa: BLE001 - olefile raises many kinds on a corrupt file
        raise OutlookMsgError(f"its Compound File is damaged ({type(exc).__name__}: {exc})", filename=filename) from None


class _Reader:
    def __init__(self, ole: olefile.OleFileIO, filename: str, flaws: list[str]):
        self.ole, self.filename, self.flaws = ole, filename, flaws
        self.entries = [tuple(entry) for entry in ole.listdir(streams=True, storages=True)]
        if ("__properties_version1.0",) not in self.entries:
            raise OutlookMsgError("it has no property stream, so it is not an Outlook message", filename=filename)

    def _stream(self, path: list[str], limit: int) -> bytes | None:
        if tuple(path) not in self.entries:
            return None
        if self.ole.get_size("/".join(path)) > limit:
            raise OutlookMsgError(f"its stream {path[-1]} is larger than {limit // 1024} KB", filename=self.filename)
        return self.ole.openstream("/".join(path)).read(limit + 1)[:limit]

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

    def time(self, prop: int) -> datetime | None:
        table = self._stream(["__properties_version1.0"], 64 * 1024) or b""
        for offset in range(_MESSAGE_HEADER, len(table) - 15, 16):
            tag, _flags, value = struct.unpack_from("<IIQ", table, offset)
            if tag == (prop << 16 | 0x0040) and value:
                try:
                    return _FILETIME_EPOCH + timedelta(microseconds=value // 10)
                except OverflowError:
                    return None
        return None

    def _children(self, kind: str, limit: int) -> list[str]:
        names = sorted({e[0] for e in self.entries if len(e) > 1 and e[0].startswith(f"__{kind}_version1.0_#")})
        if len(names) > limit:
            raise OutlookMsgError(f"it holds more than {limit} {kind} entries", filename=self.filename)
        return names

    def message(self) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = _header(self.text([], _SUBJECT) or "")
        address = self.text([], _SENDER_SMTP) or self.text([], _SENDER_ADDRESS) or ""
        if "@" in address:
            mail["From"] = formataddr((_header(self.text([], _SENDER_NAME) or ""), _header(address)))
        to, cc = [], []
        for storage in self._children("recip", MAX_RECIPIENTS):
            address = self.text([storage], _SMTP_ADDRESS) or self.text([storage], _EMAIL_ADDRESS) or ""
            if "@" in address:
                entry = formataddr((_header(self.text([storage], _DISPLAY_NAME) or ""), _header(address)))
                (cc if self._recipient_type(storage) == 2 else to).append(entry)
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
        for storage in self._children("attach", MAX_ATTACHMENTS):
            data = self._stream([storage, f"__substg1.0_{_ATTACH_DATA:04X}0102"], MAX_STREAM_BYTES)
            if data is None:
                continue  # an embedded message or OLE object, not a file
            name = _header(self.text([storage], _LONG_FILENAME) or self.text([storage], _FILENAME) or "attachment")
            kind = self.text([storage], _MIME_TAG) or mimetypes.guess_type(name, strict=False)[0]
            maintype, _, subtype = (kind or "application/octet-stream").partition("/")
            if maintype in ("text", "message", "multipart") or not re.fullmatch(r"[\w.+-]+", maintype + subtype):
                maintype, subtype = "application", "octet-stream"
            mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        return mail

    def _rtf_body(self) -> str:
        """The text of the compressed RTF body, or "" with the reason in ``flaws``."""
        path = f"__substg1.0_{_RTF_COMPRESSED:04X}0102"
        if (path,) not in self.entries:
            return ""
        try:  # a longer stream is refused by the size its header declares
            return rtf_body_text(self.ole.openstream(path).read(MAX_RTF_STREAM_BYTES))
        except UnreadableRtf as exc:
            self.flaws.append(exc.flaw(self.filename, "; the rest of the message is read"))
            return ""

    def _recipient_type(self, storage: str) -> int | None:
        table = self._stream([storage, "__properties_version1.0"], 64 * 1024) or b""
        for offset in range(_CHILD_HEADER, len(table) - 15, 16):
            tag, _flags, value = struct.unpack_from("<IIQ", table, offset)
            if tag == (_RECIPIENT_TYPE << 16 | 0x0003):
                return value & 0xFFFFFFFF
        return None


def _header(value: str) -> str:
    """A property's text made safe for a header: no control characters, bounded."""
    return _CONTROL.sub(" ", value).strip()[:998]
