"""A minimal TNEF (``winmail.dat``) writer for tests ([MS-OXTNEF]): files as Outlook writes them
and, optionally, a message body held only as compressed RTF (``PR_RTF_COMPRESSED``), the way
Outlook's "Rich Text" mode sends it. tnefparse only reads; this writes just enough for the reader."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from email.message import EmailMessage

_SIGNATURE, _LEVEL_MESSAGE, _LEVEL_ATTACHMENT = 0x223E9F78, 1, 2
_ATT_TNEF_VERSION, _ATT_MAPI_PROPS = 0x9006, 0x9003
_ATT_RENDERING, _ATT_TITLE, _ATT_DATA = 0x9002, 0x8010, 0x800F
_PT_BINARY, _PR_RTF_COMPRESSED = 0x0102, 0x1009


def _object(level: int, name: int, kind: int, data: bytes) -> bytes:
    return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H", sum(data) % 65536)


def tnef(files: Sequence[tuple[str, bytes]] = (), *, rtf_body: bytes | None = None) -> bytes:
    """A TNEF stream: one rendering, title and data object per file, and ``rtf_body`` (the bytes
    of a compressed RTF stream) as the message's only body."""
    out = struct.pack("<IH", _SIGNATURE, 1) + _object(_LEVEL_MESSAGE, _ATT_TNEF_VERSION, 8, struct.pack("<I", 0x10000))
    if rtf_body is not None:
        padded = rtf_body + b"\x00" * (-len(rtf_body) % 4)
        props = struct.pack("<IHHII", 1, _PT_BINARY, _PR_RTF_COMPRESSED, 1, len(rtf_body)) + padded
        out += _object(_LEVEL_MESSAGE, _ATT_MAPI_PROPS, 6, props)
    for name, data in files:
        out += _object(_LEVEL_ATTACHMENT, _ATT_RENDERING, 6, b"\x01\x00\xff\xff\xff\xff" + bytes(8))
        out += _object(_LEVEL_ATTACHMENT, _ATT_TITLE, 1, name.encode() + b"\x00")
        out += _object(_LEVEL_ATTACHMENT, _ATT_DATA, 6, data)
    return out


def mail_with_only_winmail(winmail: bytes, **headers: str) -> bytes:
    """A mail as Outlook sends it in Rich Text mode: no text part at all, only the winmail.dat;
    ``headers`` by name, ``_`` for ``-`` (``Message_ID="<…>"``)."""
    mail = EmailMessage()
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(winmail, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    return mail.as_bytes()
