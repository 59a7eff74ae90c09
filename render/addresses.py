"""Names and addresses as documents and headers show them: one clean line, exactly one mailbox.

Anything copied from inbound mail (a display name, an address) passes through here before it
reaches a rendered document or an outbound header, so a hostile value cannot add a line or a
recipient (RFC 5322 §3.4 mailboxes; control characters never survive).
"""

from __future__ import annotations

import unicodedata
from email.headerregistry import Address
from email.utils import getaddresses, parseaddr

from resdesk.errors import RenderError

__all__ = ["clean_header_text", "parse_one_address"]


def clean_header_text(value: str, limit: int = 300) -> str:
    """One line of printable text: control characters (CR, LF, NUL, tabs…) become spaces."""
    cleaned = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in value)
    cleaned = " ".join(cleaned.split())
    return cleaned[:limit]


def parse_one_address(value: str) -> Address:
    """Exactly one mailbox from ``value`` (display name allowed), or RenderError.

    Refuses lists ("a@x, b@y"), group syntax, line breaks and anything the email
    package cannot parse cleanly, so an inbound header cannot add recipients.
    """
    if any(unicodedata.category(ch)[0] == "C" for ch in value):
        raise RenderError(f"Refusing an address containing control characters: {value[:80]!r}.")
    found = getaddresses([value])
    if len(found) != 1:
        raise RenderError(f"Expected exactly one address, found {len(found)} in {value[:80]!r}.")
    name, addr = found[0]
    if parseaddr(value)[1] != addr or addr.count("@") != 1:
        raise RenderError(f"Not a single email address: {value[:80]!r}.")
    local, domain = addr.split("@")
    if not local or not domain or any(ch in addr for ch in " ,;:<>()[]\\\""):
        raise RenderError(f"Not a single email address: {value[:80]!r}.")
    try:
        return Address(display_name=clean_header_text(name, 120), username=local, domain=domain)
    except (ValueError, IndexError) as error:
        raise RenderError(f"Not a usable email address: {value[:80]!r} ({error}).") from error
