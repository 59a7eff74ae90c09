"""Files and message body inside a TNEF ``winmail.dat``, as Outlook and Exchange send them.

A filled template may arrive wrapped in one. ``tnefparse`` does the decoding; before it
sees the bytes, a bounded walk checks every count the stream declares against the bytes
that are really there, because a corrupt count (say 4 billion properties in a 200-byte
block) would otherwise keep the decoder looping for hours. Anything that cannot be read
raises ``WinmailError`` with the reason, never a bare library exception.

The body is the plain or HTML one when there is one, else the compressed RTF body Outlook
sends in "Rich Text" mode, read by ``rtfbody``. An RTF body that cannot be read is a harmless
flaw: the files are still returned, the body left empty and the reason given in ``flaws``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from resdesk.errors import IntakeError
from resdesk.intake.limits import MESSAGE_DEPTH
from resdesk.intake.rtfbody import UnreadableRtf, rtf_body_text

if TYPE_CHECKING:
    import tnefparse

_SIGNATURE = 0x223E9F78
_LEVEL_ATTACHMENT = 0x02
_ATT_MAPI_PROPS = 0x9003
_ATT_RECIPIENT_TABLE = 0x9004
_ATT_ATTACHMENT = 0x9005
_MULTI_VALUE = 0x1000
_NAMED = 0x8000
_IMESSAGE_SIG = b"\x07\x03\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46"
_ATTACH_DATA_OBJ = 0x3701
_RTF_COMPRESSED = 0x1009  # PR_RTF_COMPRESSED ([MS-OXPROPS])
_FIXED_SIZES = {0x0002: 2, 0x000B: 2, 0x0003: 4, 0x0004: 4, 0x000A: 4,
                0x0005: 8, 0x0006: 8, 0x0007: 8, 0x0014: 8, 0x0040: 8, 0x0048: 16}
_VARIABLE_TYPES = {0x0000, 0x000D, 0x001E, 0x001F, 0x0102}


class WinmailError(IntakeError):
    """A ``winmail.dat`` (TNEF) attachment could not be read."""

    def __init__(self, reason: str, *, filename: str = "winmail.dat"):
        self.reason = reason
        self.filename = filename
        super().__init__(f"The attachment {filename} could not be read: {reason}.")


@dataclass(frozen=True)
class WinmailFile:
    """One file found inside a ``winmail.dat``."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class WinmailContent:
    """What a ``winmail.dat`` carried: its files and, when present, its message body (the text
    of an RTF-only body is in ``body_text``); ``flaws`` says why a body was left unread."""

    files: tuple[WinmailFile, ...]
    body_text: str | None
    body_html: str | None
    flaws: tuple[str, ...] = ()


def read_winmail(data: bytes, *, filename: str = "winmail.dat") -> WinmailContent:
    """Decode a TNEF stream into its files and body; raise ``WinmailError`` if unreadable."""
    if len(data) < 6 or struct.unpack_from("<I", data)[0] != _SIGNATURE:
        raise WinmailError("it does not start with the TNEF signature", filename=filename)
    try:
        _check_stream(data, depth=0)
    except (struct.error, _Implausible) as exc:
        raise WinmailError(f"it is damaged ({exc})", filename=filename) from None

    import tnefparse  # imported here: only mail with a winmail.dat needs it

    try:
        tnef = tnefparse.TNEF(data, do_checksum=False)
        files = []
        for number, attachment in enumerate(tnef.attachments, start=1):
            name = _text(attachment.long_filename()).strip().strip("\x00")
            payload = attachment.data if isinstance(attachment.data, bytes) else b""
            files.append(WinmailFile(name or f"attachment-{number}", payload))
        body_text = _text(tnef.body) if tnef.body else None
        body_html = _text(tnef.htmlbody) if tnef.htmlbody else None
        rtf = None if body_text or body_html else _compressed_rtf(tnef)
    except Exception as exc:  # the decoder's failures are many and untyped
        raise WinmailError(
            f"it is damaged ({type(exc).__name__}: {exc})", filename=filename
        ) from None
    flaws: tuple[str, ...] = ()
    if rtf is not None:
        try:
            body_text = rtf_body_text(rtf) or None
        except UnreadableRtf as exc:
            flaws = (exc.flaw(filename, "; the files in it are kept" if files else ""),)
    return WinmailContent(tuple(files), body_text, body_html, flaws)


def _compressed_rtf(tnef: tnefparse.TNEF) -> bytes | None:
    """The message's ``PR_RTF_COMPRESSED`` value as it was sent. ``tnefparse`` keeps it with
    its trailing zero bytes stripped (and decompresses it without bounds), so the message's
    property block is decoded again here; the value keeps its padding, which the compressed
    RTF header's own size cuts off."""
    from tnefparse.mapi import decode_mapi

    found = None
    for obj in tnef.objects:
        if obj.level != _LEVEL_ATTACHMENT and obj.name == _ATT_MAPI_PROPS:
            for prop in decode_mapi(obj.data, tnef.codepage or "cp1252"):
                if prop.name == _RTF_COMPRESSED and prop.raw_data and isinstance(prop.raw_data[0], bytes):
                    found = prop.raw_data[0]
    return found


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list):
        return "".join(_text(v) for v in value)
    return str(value)


class _Implausible(Exception):
    """A count or length in the stream is larger than the bytes that follow it."""


def _check_stream(data: bytes, depth: int) -> None:
    """Walk the TNEF objects the way the decoder will, refusing impossible counts."""
    if depth > MESSAGE_DEPTH:
        raise _Implausible(f"it nests messages more than {MESSAGE_DEPTH} deep")
    offset = 6
    while offset + 12 < len(data):
        level, name = data[offset], struct.unpack_from("<H", data, offset + 1)[0]
        declared = struct.unpack_from("<I", data, offset + 5)[0]
        if declared + 11 > len(data) - offset:
            raise _Implausible(f"it is cut short: an object of {declared} bytes has "
                               f"{max(len(data) - offset - 11, 0)} left")
        length = declared + 11
        body = data[offset + 9: offset + length - 2]
        if name == _ATT_RECIPIENT_TABLE and level != _LEVEL_ATTACHMENT:
            rows = struct.unpack_from("<I", body)[0]
            _plausible(rows, 4, len(body) - 4, "recipient rows")
            at = 4
            for _ in range(rows):
                at = _check_mapi(body, at, depth)
        elif name == _ATT_MAPI_PROPS or name == _ATT_ATTACHMENT:
            _check_mapi(body, 0, depth)
        offset += length


def _plausible(count: int, each: int, available: int, what: str) -> None:
    if count * each > max(available, 0):
        raise _Implausible(f"{count} {what} declared in {max(available, 0)} bytes")


def _check_mapi(data: bytes, offset: int, depth: int) -> int:
    """Check one MAPI property block; return the offset just past it."""
    count = struct.unpack_from("<I", data, offset)[0]
    offset += 4
    _plausible(count, 4, len(data) - offset, "properties")
    for _ in range(count):
        if offset >= len(data):
            raise _Implausible("a property list runs past its block")
        kind, name = struct.unpack_from("<HH", data, offset)
        offset += 4
        if name >= _NAMED:
            offset += 16
            form = struct.unpack_from("<I", data, offset)[0]
            offset += 4
            if form == 0:
                offset += 4
            else:
                size = struct.unpack_from("<I", data, offset)[0]
                offset += 4
                _plausible(size, 1, len(data) - offset, "bytes of property name")
                offset += size + (-size % 4)
        values = 1
        multi = bool(kind & _MULTI_VALUE)
        if multi:
            kind ^= _MULTI_VALUE
            values = struct.unpack_from("<I", data, offset)[0]
            offset += 4
            _plausible(values, 2, len(data) - offset, "values")
        for _ in range(values):
            if kind in _FIXED_SIZES:
                offset += _FIXED_SIZES[kind]
            elif kind in _VARIABLE_TYPES:
                items = 1
                if not multi:
                    items = struct.unpack_from("<I", data, offset)[0]
                    offset += 4
                    _plausible(items, 4, len(data) - offset, "items")
                for _ in range(items):
                    size = struct.unpack_from("<I", data, offset)[0]
                    offset += 4
                    _plausible(size, 1, len(data) - offset, "bytes of property value")
                    value = data[offset: offset + size]
                    if name == _ATTACH_DATA_OBJ and value.startswith(_IMESSAGE_SIG):
                        _check_stream(value[len(_IMESSAGE_SIG):], depth + 1)
                    offset += size + (-size % 4)
            else:
                raise _Implausible(f"unknown property type {kind:#06x}")
        if values % 2 and kind in (0x0002, 0x000B):
            offset += 2
        if offset > len(data):
            raise _Implausible("a property runs past its block")
    return offset
