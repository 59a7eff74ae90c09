"""Text out of MIME parts: charset trouble decoded as well as possible and noted, HTML made text.

An unknown or mislabelled charset is a harmless flaw (RFC 2045 §5.2 says to read such text as
best one can): ``unknown-8bit``, ``x-unknown`` and the like are read as UTF-8 when the bytes are
valid UTF-8, else as Windows-1252 (what the mail programs that write them use); names that
browsers know but Python does not (``iso-8859-8-i``, ``windows-874``) are read with the charset
they mean. HTML is turned into text by inscriptis, which keeps the layout of tables and lists.
"""

from __future__ import annotations

import html
import re
from email.message import EmailMessage

from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig

__all__ = ["html_to_text", "part_text"]

#: Charset labels Python does not know, and the codec they mean (WHATWG Encoding labels).
_CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8", "iso-8859-6-i": "iso-8859-6", "iso-8859-8-e": "iso-8859-8",
    "iso-8859-6-e": "iso-8859-6", "windows-874": "cp874", "x-mac-roman": "mac-roman", "x-sjis": "shift_jis",
    "x-gbk": "gbk", "ks_c_5601-1987": "cp949", "x-euc-jp": "euc-jp",
}
_HTML_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_links=False, display_images=False)


def part_text(part: EmailMessage, flaws: list[str]) -> str:
    """The decoded text of one part; a charset that is unknown, wrong or mislabelled is read
    as well as possible and noted in ``flaws`` (a sentence each), never raised."""
    charset = (part.get_content_charset() or "").strip().lower()
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except LookupError:
        pass
    except Exception as exc:
        flaws.append(f"a text part could not be decoded as {charset or 'declared'} ({type(exc).__name__}); read as UTF-8")
        charset = ""
    try:
        data = part.get_payload(decode=True) or b""
    except Exception:
        return ""
    if not isinstance(data, bytes):
        return str(data)
    alias = _CHARSET_ALIASES.get(charset)
    if alias:
        flaws.append(f"the charset {charset!r} is read as {alias}")
        return data.decode(alias, errors="replace")
    try:
        text = data.decode("utf-8")
        read_as = "UTF-8"
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        read_as = "Windows-1252"
    if charset:
        flaws.append(f"unknown charset {charset!r}; read as {read_as}")
    return text


def html_to_text(markup: str) -> str:
    """Text from HTML: scripts, styles and hidden parts gone, blocks on their own lines,
    tables' cells side by side (inscriptis)."""
    try:
        text = get_text(markup, _HTML_CONFIG)
    except Exception:  # a document inscriptis cannot parse at all: keep its words
        return html.unescape(" ".join(re.sub(r"<[^>]*>", " ", markup).split()))
    lines = [line.rstrip() for line in text.replace("\xa0", " ").splitlines()]
    kept: list[str] = []
    for line in lines:
        if line.strip() or (kept and kept[-1]):
            kept.append(line.strip())
    return "\n".join(kept).strip()
