"""Outlook ``.msg`` files that embed other messages, as Outlook saves a mail dragged into a new mail.

They are written by aspose-email-foss (MIT), a library that writes [MS-OXMSG] files: its
``MapiMessage.from_email_message`` turns an RFC 5322 message into a ``.msg`` and each
``message/rfc822`` part it carries into an embedded message (``PR_ATTACH_METHOD`` 5,
``ATTACH_EMBEDDED_MSG``, the message in the attachment's ``__substg1.0_3701000D`` storage), and
``add_embedded_message_attachment`` nests ``MapiMessage`` objects directly. No ``.msg`` with an
embedded message is in the shared corpus, so these stand in for Outlook's own.

Two hostile shapes no writer produces on purpose — a storage tree that loops back on itself and
streams that share their sectors — are made by rewriting directory entries ([MS-CFB] 2.6.1) of a
file aspose-email-foss wrote: ``looping`` and ``sharing_sectors`` say which fields they change.
"""

from __future__ import annotations

import io
import struct
from email.message import EmailMessage

import olefile
from aspose.email_foss.msg import MapiMessage

_ENTRY = 128  # bytes of one directory entry
_CHILD, _START, _SIZE = 76, 116, 120  # offsets in it of the child id, starting sector and stream size


def mail(subject: str, body: str, *, sender: str, to: str, date: str, message_id: str,
         files: dict[str, bytes] | None = None, carried: tuple[tuple[str, EmailMessage], ...] = ()) -> EmailMessage:
    """A mail with ``files`` attached and each (file name, message) in ``carried`` attached as
    ``message/rfc822``, as a mail program hands it to Outlook."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Date"], message["Message-ID"] = date, message_id
    message.set_content(body)
    for name, data in (files or {}).items():
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    for name, inner in carried:
        message.add_attachment(inner, filename=name)
    return message


def as_msg(message: EmailMessage) -> bytes:
    """``message`` saved as an Outlook ``.msg``; the messages it carries become embedded messages."""
    return MapiMessage.from_email_message(message).to_bytes()


def nested(levels: int, *, files_per_message: int = 0, file_bytes: int = 16, innermost: MapiMessage | None = None) -> bytes:
    """A ``.msg`` whose message embeds one message, which embeds the next, ``levels`` deep in all
    (1: no embedded message); each message carries ``files_per_message`` files of ``file_bytes``."""
    message = innermost or MapiMessage.create(f"Level {levels}", "The innermost message.")
    for level in range(levels - 1, 0, -1):
        outer = MapiMessage.create(f"FW: Level {level + 1}", f"Forwarding level {level + 1}.")
        outer.add_embedded_message_attachment(message, filename=f"Level {level + 1}.msg")
        message = outer
    _with_files(message, files_per_message, file_bytes)
    return message.to_bytes()


def _with_files(message: MapiMessage, count: int, size: int) -> None:
    for attachment in list(message.attachments):
        if attachment.embedded_message is not None:
            _with_files(attachment.embedded_message, count, size)
    for n in range(count):
        message.add_attachment(f"file-{n}.bin", bytes([n % 256]) * size)


def wide(messages: int) -> bytes:
    """A ``.msg`` embedding ``messages`` messages side by side, each with one small file."""
    top = MapiMessage.create("FW: everything", "All of them.")
    for n in range(messages):
        inner = MapiMessage.create(f"Message {n}", "One of many.")
        inner.add_attachment("note.txt", b"note")
        top.add_embedded_message_attachment(inner, filename=f"Message {n}.msg")
    return top.to_bytes()


def _entry(ole: olefile.OleFileIO, path: list[str]) -> olefile.olefile.OleDirectoryEntry:
    entry = ole.root
    for name in path:
        entry = next(kid for kid in entry.kids if kid.name == name)
    return entry


def _entry_offset(ole: olefile.OleFileIO, sid: int) -> int:
    """Where directory entry ``sid`` sits in the file: the directory is a chain of sectors."""
    per_sector = ole.sectorsize // _ENTRY
    sector = ole.first_dir_sector
    for _ in range(sid // per_sector):
        sector = ole.fat[sector]
    return (sector + 1) * ole.sectorsize + (sid % per_sector) * _ENTRY


def looping(data: bytes, attachment: str = "__attach_version1.0_#00000000") -> bytes:
    """``data`` with the embedded-message storage of ``attachment`` made to hold that attachment's
    own storage (its child id set to its parent's id): a storage tree that loops back on itself."""
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        parent = _entry(ole, [attachment])
        storage = _entry(ole, [attachment, "__substg1.0_3701000D"])
        offset = _entry_offset(ole, storage.sid)
    patched = bytearray(data)
    struct.pack_into("<I", patched, offset + _CHILD, parent.sid)
    return bytes(patched)


def sharing_sectors(data: bytes, source: list[str], targets: list[list[str]]) -> bytes:
    """``data`` with each stream in ``targets`` pointed at the sectors of the stream ``source``
    (starting sector and size copied): streams that add up to far more than the file holds."""
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        shared = _entry(ole, source)
        offsets = [_entry_offset(ole, _entry(ole, target).sid) for target in targets]
    patched = bytearray(data)
    for offset in offsets:
        struct.pack_into("<IQ", patched, offset + _START, shared.isectStart, shared.size)
    return bytes(patched)
