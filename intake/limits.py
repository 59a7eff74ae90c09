"""Bounds on the work one inbound message may cause, checked on its raw bytes before parsing.

The ``email`` package and the text steps after it take time that grows faster than the input
on some shapes (100,000 addresses in one ``To:``, 10,000 encoded words, megabyte-long lines).
So before anything parses a message, one pass over its bytes — each check a single linear
scan, no backtracking pattern, and the costlier counts made only when a quick bound (the
message's length, its colons) does not already rule the limit out — measures what
those steps would face, and a message over a
limit is quarantined with a reason that names the limit (the ``limits.*`` setting) and the
size found. Pure: bytes and limits in, a reason or None out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MESSAGE_DEPTH", "InboundLimits", "over_limit"]

#: How many levels of messages carried inside an inbound message intake opens. A message attached
#: to the mail that arrived (``message/rfc822``, an Outlook ``.msg``, one a ``winmail.dat`` embeds)
#: is level 1, a message embedded in that one level 2, and so on. Deeper nesting is no forward a
#: person makes by hand (Outlook's "drag the mail into a new mail" adds one level each time), so
#: it is refused with a reason rather than offered as a setting. Each level is bounded besides by
#: its container's own limits (a ``.msg``: 25 MB, 100 attachments in all).
MESSAGE_DEPTH = 4

_ADDRESS_HEADERS = frozenset({b"from", b"to", b"cc", b"bcc", b"reply-to", b"sender", b"resent-to", b"resent-cc"})
# Each is a fixed string or one bounded class: matched in linear time.
_PART_HEADER = re.compile(rb"^content-type[ \t]*:", re.IGNORECASE | re.MULTILINE)
_ATTACHMENT = re.compile(rb"^content-disposition[ \t]*:[ \t]*attachment", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class InboundLimits:
    """The ``limits`` settings intake enforces (defaults as in the settings)."""

    header_bytes: int = 256 * 1024
    addresses_per_header: int = 500
    encoded_words: int = 200
    line_chars: int = 100_000
    body_chars: int = 2_000_000
    field_chars: int = 20_000
    parts: int = 200
    attachments: int = 40


def _header_end(raw: bytes) -> int:
    """Where the first blank line (CRLF or bare LF) starts; the whole message when there is none."""
    crlf = raw.find(b"\r\n\r\n")
    lf = raw.find(b"\n\n", 0, len(raw) if crlf == -1 else crlf + 1)  # only one before the CRLF one counts
    ends = [i for i in (crlf, lf) if i != -1]
    return min(ends) if ends else len(raw)


def _unfolded_headers(head: bytes) -> list[tuple[bytes, bytes]]:
    """(lower-case name, value) of each header, continuation lines joined (one pass)."""
    headers: list[tuple[bytes, list[bytes]]] = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and headers:
            headers[-1][1].append(line)
            continue
        name, colon, value = line.partition(b":")
        if colon:
            headers.append((name.strip().lower(), [value]))
    return [(name, b" ".join(parts)) for name, parts in headers]


def _longest_line(raw: bytes) -> int:
    return max(map(len, raw.split(b"\n")))


def over_limit(raw: bytes, limits: InboundLimits) -> str | None:
    """Why ``raw`` is over one of ``limits`` (the first found), or None. Linear in ``len(raw)``."""
    end = _header_end(raw)
    if end > limits.header_bytes:
        return (
            f"its header section is {end:,} bytes, over the limit of {limits.header_bytes:,} "
            "(limits.header_bytes)"
        )
    head = raw[:end]
    encoded = head.count(b"=?")
    if encoded > limits.encoded_words:
        return (
            f"its headers hold {encoded:,} encoded words, over the limit of {limits.encoded_words:,} "
            "(limits.encoded_words)"
        )
    for name, value in _unfolded_headers(head):
        if name in _ADDRESS_HEADERS:
            addresses = value.count(b"@")
            if addresses > limits.addresses_per_header:
                return (
                    f"its {name.decode('ascii', 'replace').title()} header lists {addresses:,} addresses, "
                    f"over the limit of {limits.addresses_per_header:,} (limits.addresses_per_header)"
                )
    longest = _longest_line(raw) if len(raw) > limits.line_chars else 0  # no line is longer than the message
    if longest > limits.line_chars:
        return (
            f"it has a line of {longest:,} characters, over the limit of {limits.line_chars:,} "
            "(limits.line_chars)"
        )
    # Each part header holds a colon of its own, so the colons after the headers bound the part
    # headers; the patterns, which try every position, count exactly only past that bound (base64
    # holds no colon, so an ordinary message is never counted by pattern).
    colons = raw.count(b":", end)
    parts = len(_PART_HEADER.findall(raw, end)) if colons > limits.parts else 0
    if parts > limits.parts:
        return f"it has {parts:,} MIME parts, over the limit of {limits.parts:,} (limits.parts)"
    attachments = len(_ATTACHMENT.findall(raw, end)) if colons > limits.attachments else 0
    if attachments > limits.attachments:
        return (
            f"it carries {attachments:,} attachments, over the limit of {limits.attachments:,} "
            "(limits.attachments)"
        )
    return None
