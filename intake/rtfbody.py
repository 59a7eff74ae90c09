"""Outlook's compressed RTF message body ([MS-OXRTFCP]) made text.

Outlook in "Rich Text" mode, and Exchange when it wraps mail in a ``winmail.dat``, may send the
body only as ``PR_RTF_COMPRESSED``: no plain text, no HTML. ``rtf_body_text`` reads it.

Two small libraries with no dependencies of their own do the work: ``compressed_rtf``
decompresses ([MS-OXRTFCP], the LZFu and uncompressed forms, checking the CRC) and ``striprtf``
turns the RTF into text. ``striprtf`` reads native RTF (what Rich Text mode sends) as well as the
HTML or text Outlook encapsulates in RTF ([MS-OXRTFEX]): the ``\\*\\htmltag`` groups holding the
HTML markup are destinations it skips, so what is left is the text Outlook shows. RTFDE, which
de-encapsulates the HTML itself, was not chosen: it refuses native RTF (so ``striprtf`` would be
needed anyway), pins ``lark`` to 1.3.x, and brings ``oletools`` — with a GUI toolkit and an
Office decryption stack — for one code-page table.

The input is hostile, so every step is bounded before it runs. The header's declared sizes are
checked against the bytes present, ``MAX_COMPRESSED_BYTES`` and ``MAX_RTF_BYTES`` before
decompressing (the decompressor consumes its input as it goes, so it cannot loop; its output is
cut to the declared size). Two of ``striprtf``'s patterns backtrack on crafted RTF (minutes for
20 KB), so before it sees the text a line break goes before each unescaped brace (RTF ignores
line breaks, so the text is unchanged, but its hyperlink pattern can no longer span groups on one
long line), and a font table larger than ``MAX_FONT_TABLE_CHARS`` or whose last ``\\fcharset``
entry never ends is refused. Anything unreadable raises ``UnreadableRtf`` with the reason;
callers treat it as a harmless flaw.
"""

from __future__ import annotations

import re
import struct

from compressed_rtf import decompress
from striprtf.striprtf import font_table_group, rtf_to_text

from resdesk.errors import IntakeError

__all__ = [
    "MAX_COMPRESSED_BYTES", "MAX_FONT_TABLE_CHARS", "MAX_RTF_BYTES", "MAX_RTF_STREAM_BYTES", "UnreadableRtf",
    "rtf_body_text",
]

MAX_RTF_BYTES = 2 * 1024 * 1024  # declared (raw) size; a body's text is far smaller
MAX_COMPRESSED_BYTES = 1024 * 1024  # a crafted stream expands at most 8-fold: 8 MB, about 3 seconds
MAX_FONT_TABLE_CHARS = 16 * 1024
_HEADER = 16  # COMPSIZE, RAWSIZE, COMPTYPE, CRC ([MS-OXRTFCP] 2.1.3.1.1)
MAX_RTF_STREAM_BYTES = _HEADER + MAX_COMPRESSED_BYTES  # the most of a stream that is ever read
_MAX_RATIO = 8  # a control byte and eight 2-byte references give at most 8 x 17 bytes
_UNESCAPED_BRACE = re.compile(r"(?<!\\)((?:\\\\)*)([{}])")
_FONT_ENTRY_END = re.compile(r"\\fcharset\d+[^;]+;")


class UnreadableRtf(IntakeError):
    """A compressed RTF body could not be read as text."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"The compressed RTF body could not be read: {reason}.")

    def flaw(self, inside: str, then: str) -> str:
        """The message's flaw sentence: the body inside the file ``inside`` was left unread, and
        ``then`` says what was still read (starts with "; ")."""
        return f"the message body inside {inside} (compressed RTF) could not be read: {self.reason}{then}"


def rtf_body_text(compressed: bytes) -> str:
    """The text of a ``PR_RTF_COMPRESSED`` value; raises ``UnreadableRtf``."""
    rtf = _decompressed(compressed)
    text = rtf.decode("cp1252", errors="replace")  # Outlook escapes what is not ASCII
    text = _UNESCAPED_BRACE.sub("\\1\n\\2", text)
    fonts = font_table_group(text)
    if len(fonts) > MAX_FONT_TABLE_CHARS:
        raise UnreadableRtf(f"its font table is {len(fonts):,} characters, more than the "
                            f"{MAX_FONT_TABLE_CHARS:,} read")
    last = fonts.rfind("\\fcharset")
    if last != -1 and not _FONT_ENTRY_END.match(fonts, last):
        raise UnreadableRtf("its font table is damaged (an entry never ends)")
    try:
        plain = rtf_to_text(text, errors="replace")
    except Exception as exc:  # noqa: BLE001 - striprtf's failures are untyped
        raise UnreadableRtf(f"its RTF is damaged ({type(exc).__name__}: {exc})") from None
    lines = plain.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def _decompressed(data: bytes) -> bytes:
    """The RTF in a compressed RTF stream, its declared sizes checked before decompressing."""
    if len(data) < _HEADER:
        raise UnreadableRtf(f"it is {len(data)} bytes, shorter than its {_HEADER}-byte header")
    size, raw_size, kind = struct.unpack_from("<II4s", data)
    payload = size + 4 - _HEADER  # COMPSIZE counts the header after itself
    if kind not in (b"LZFu", b"MELA"):
        raise UnreadableRtf(f"it is not compressed RTF (its type is {kind!r}, not LZFu or MELA)")
    if payload < 0:
        raise UnreadableRtf(f"its header declares an impossible size of {size} bytes")
    if payload > MAX_COMPRESSED_BYTES:
        raise UnreadableRtf(f"it is {payload:,} compressed bytes, more than the "
                            f"{MAX_COMPRESSED_BYTES // 2**20} MB read")
    if raw_size > MAX_RTF_BYTES:
        raise UnreadableRtf(f"its header declares {raw_size:,} bytes of RTF, more than the "
                            f"{MAX_RTF_BYTES // 2**20} MB read")
    if raw_size > payload * (_MAX_RATIO if kind == b"LZFu" else 1):
        raise UnreadableRtf(f"its header declares {raw_size:,} bytes of RTF, more than its "
                            f"{payload:,} compressed bytes can hold")
    if _HEADER + payload > len(data):
        raise UnreadableRtf(f"it is cut short: its header declares {_HEADER + payload:,} bytes and "
                            f"{len(data):,} are there")
    try:
        rtf = decompress(data[: _HEADER + payload])
    except Exception as exc:  # noqa: BLE001 - compressed_rtf raises bare Exception
        raise UnreadableRtf(f"it is damaged ({exc})") from None
    return rtf[:raw_size]
