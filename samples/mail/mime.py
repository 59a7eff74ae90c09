"""Writing sample messages byte for byte: headers as given, fixed boundaries, no clock.

The standard library's generator draws random boundaries and re-folds headers; the samples
must come out identical on every run and keep the raw header text agencies' mail clients
produce (encoded words, odd prefixes), so messages are assembled here from plain parts.
"""

from __future__ import annotations

import base64
import quopri
from dataclasses import dataclass, field


@dataclass
class Part:
    """One MIME entity: its own headers (after the Content-* ones) and an encoded body."""

    content_type: str
    body: bytes
    transfer_encoding: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)

    def serialise(self) -> bytes:
        lines = [f"Content-Type: {self.content_type}"]
        if self.transfer_encoding:
            lines.append(f"Content-Transfer-Encoding: {self.transfer_encoding}")
        lines += [f"{name}: {value}" for name, value in self.headers]
        return ("\n".join(lines) + "\n\n").encode("ascii") + self.body


def text(body: str, subtype: str = "plain") -> Part:
    """A text part: 7bit when plain ASCII with short lines, quoted-printable otherwise."""
    data = body.replace("\r\n", "\n")
    if data.isascii() and all(len(line) <= 76 for line in data.split("\n")):
        return Part(f'text/{subtype}; charset="us-ascii"', data.encode("ascii"), "7bit")
    encoded = quopri.encodestring(data.encode("utf-8"))
    return Part(f'text/{subtype}; charset="utf-8"', encoded, "quoted-printable")


def _base64(data: bytes) -> bytes:
    return base64.encodebytes(data)


def attachment(filename: str, content_type: str, data: bytes) -> Part:
    """A base64 attachment, named both the old way (name=) and the new (filename=)."""
    return Part(
        f'{content_type}; name="{filename}"',
        _base64(data),
        "base64",
        [("Content-Disposition", f'attachment; filename="{filename}"; size={len(data)}')],
    )


def inline_message(content_type: str, data: bytes, description: str | None = None) -> Part:
    headers = [("Content-Description", description)] if description else []
    return Part(content_type, data, "7bit", headers)


def multipart(subtype: str, parts: list[Part], boundary: str, params: str = "") -> Part:
    """A multipart entity with a fixed boundary (the sample's own, so re-runs match)."""
    chunks = [b"This is a multi-part message in MIME format.\n"]
    for part in parts:
        chunks.append(f"\n--{boundary}\n".encode("ascii"))
        chunks.append(part.serialise())
    chunks.append(f"\n--{boundary}--\n".encode("ascii"))
    return Part(f'multipart/{subtype}; boundary="{boundary}"{params}', b"".join(chunks))


def message(headers: list[tuple[str, str]], body: Part) -> bytes:
    """A whole message: the top headers in order, then MIME-Version and the body entity."""
    top = "".join(f"{name}: {value}\n" for name, value in headers)
    return top.encode("utf-8") + b"MIME-Version: 1.0\n" + body.serialise()


def encoded_words(value: str, chunk: int = 18, *, mid_word: bool = False) -> str:
    """``value`` as RFC 2047 Q-encoded words of about ``chunk`` characters, as mail clients write
    non-ASCII headers: split between words, or anywhere (``mid_word``), as some clients do."""
    import re
    from email import quoprimime

    if mid_word:
        pieces = [value[i:i + chunk] for i in range(0, len(value), chunk)]
    else:
        pieces = [""]
        for word in re.findall(r"\s*\S+|\s+$", value):
            if pieces[-1] and len(pieces[-1]) + len(word) > chunk:
                pieces.append("")
            pieces[-1] += word
    return "\n ".join(quoprimime.header_encode(p.encode("utf-8"), charset="utf-8") for p in pieces)


def address(name: str, addr: str) -> str:
    """A From/To address with its display name quoted or encoded as a mail client would."""
    if not name.isascii():
        return f"{encoded_words(name, chunk=60)} <{addr}>"
    if any(c in name for c in ',.;:@()<>"'):
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}" <{addr}>'
    return f"{name} <{addr}>"
