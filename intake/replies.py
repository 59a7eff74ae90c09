"""Only the new part of a reply counts: the text above the quoted earlier mail.

Mail programs quote without ``>`` marks: Outlook under a ``From:/Sent:`` block or an
``-----Original Message-----`` line, Gmail and Apple Mail under "On … wrote:" (and its
translations: "Am … schrieb", "Le … a écrit", "El … escribió", …). mail-parser-reply finds these
in every language it knows. A forward (``FW:``, ``Fwd:``, ``WG:``, ``TR:``, ``RV:``, ``Doorst:``,
``VS:``, ``ENC:``, ``I:``) is kept whole: what it forwards is what it carries.
"""

from __future__ import annotations

import re

from mailparser_reply import EmailReplyParser
from mailparser_reply.constants import MAIL_LANGUAGES
from mailparser_reply.parser import EmailMessage

__all__ = ["new_part"]

_PARSER = EmailReplyParser(languages=[language for language in MAIL_LANGUAGES if language != "david"])
# mail-parser-reply builds and compiles its three patterns (quotation headers, signatures, disclaimers:
# every language's phrases joined) for every text it reads, which costs five times the reading itself;
# they depend only on the languages, so they are built once here and handed to each read.
_BUILT = EmailMessage(text="", languages=list(_PARSER.languages))
_PATTERNS = {"_header_regex": _BUILT.HEADER_REGEX, "_signature_regex": _BUILT.SIGNATURE_REGEX,
             "_disclaimers_regex": _BUILT.DISCLAIMERS_REGEX}
_FORWARD = re.compile(r"^\s*(?:fw|fwd|wg|tr|rv|doorst|vs|enc|i|fs|vb|pd)\s*[:：]", re.IGNORECASE)
# mail-parser-reply's patterns run across blank lines, so its time grows with the square of a run of
# them (25,000 blank lines took over a minute); runs of blank lines are cut to two before it reads.
_BLANK_RUN = re.compile(r"\n(?:[^\S\n]*\n){2,}")
# Its time also grows faster than the text on many short lines, so it reads only the first
# ``_PARSED_CHARS`` characters: a reply's new part and the quotation header under it sit at the top.
_PARSED_CHARS = 50_000
_REPLY = re.compile(r"^\s*(?:re|aw|sv|antw|rif|r|res|odp|vs|ynt)\s*(?:\[\d+\])?\s*[:：]", re.IGNORECASE)


def new_part(text: str, subject: str = "", *, is_reply: bool = True) -> str:
    """The body text above the first quoted earlier message; the whole ``text`` for a forward,
    for a message that is not a reply, or when no quotation is found in its first 50,000
    characters. Bounded time whatever the text's length or shape."""
    if _FORWARD.match(subject) or not (is_reply or _REPLY.match(subject)):
        return text
    try:
        parsed = EmailMessage(text=_BLANK_RUN.sub("\n\n\n", text[:_PARSED_CHARS]), languages=list(_PARSER.languages),
                              **_PATTERNS).read()  # as _PARSER.read(text), with the patterns built once
    except Exception:  # noqa: BLE001 - a text the parser trips on is read whole
        return text
    replies = parsed.replies
    if len(replies) < 2 or replies[0].headers:
        return text
    return replies[0].content or ""
