"""Header values from received mail, read without ever raising and made safe to reuse.

``HeaderReader`` decodes 8-bit bytes and RFC 2047 encoded words, records what it had to
forgive as defects, and reads a malformed address header the way mail programs show it.
``reading_policy`` is the ``email`` package's default policy that parses each header once: the
package parses a header value anew on every ``get`` (``Content-Type`` alone a dozen times while
one message is parsed and read), so a message parsed with it decodes each value once, and a MIME
header value seen in an earlier message (``text/plain; charset="utf-8"``) is not parsed again.
``HeaderReader`` takes a plain value (``_PLAIN_TEXT``, ``_PLAIN_MESSAGE_ID``,
``_PLAIN_MAILBOXES``: printable ASCII, no encoded word, plain addresses), which the structured
parser gives back exactly as written, as written without parsing it; the parser's address
grammar costs more than the rest of reading an ordinary message's headers.
``safe_header_text`` is applied to everything it returns, so no value read from inbound
mail can carry a line break into an outbound header. ``ledger_headers`` reads the subject,
sender and Message-ID the message ledger keeps, before the message is read in full.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import errors, policy
from email.header import decode_header, make_header
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import EmailPolicy, compat32
from email.utils import parsedate_to_datetime

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_ANGLE_ADDRESS = re.compile(r"<([^<>]*)>")
_NOT_IN_PLAIN_ADDRESS = re.compile(r"[\s<>\"]")
_CONTROL_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


@dataclass(frozen=True)
class Address:
    """A mailbox from an address header: the display name as written, and the address."""

    name: str
    address: str

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2].lower()



def safe_header_text(value: str) -> str:
    """Make text from inbound mail safe to put in an outbound header.

    Removes CR, LF and every other control, format or separator character (a header
    injection needs a line break, and some mailers treat U+2028 or NEL as one), replaces
    undecodable characters, and folds runs of whitespace into one space.
    """
    if value.isascii() and value.isprintable():  # no control or separator but the space: only folding
        return " ".join(value.split())
    cleaned = []
    for char in value:
        category = unicodedata.category(char)
        if category in _CONTROL_CATEGORIES and char != "\u200d":
            cleaned.append(" ")
        elif category == "Zs":
            cleaned.append(" ")
        else:
            cleaned.append(char)
    return " ".join("".join(cleaned).split())



class _HeadersParsedOnce(HeaderRegistry):
    """The standard header registry, keeping every header object it makes: the same name and
    value give the same (immutable) header object without being parsed again. The class for a
    kind of header is made once too (the standard registry makes a new class on every call).
    MIME headers' objects are kept for every message (``_SHARED``), the rest for this one."""

    _classes: dict[type, type] = {}  # registered header class -> the class made from it; a dozen at most

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[tuple[str, str], object] = {}

    def __getitem__(self, name: str) -> type:
        registered = self.registry.get(name.lower(), self.default_class)
        made = self._classes.get(registered)
        if made is None:
            made = self._classes[registered] = super().__getitem__(name)
        return made

    def __call__(self, name: str, value: str):
        key = (name, value)
        made = self._made.get(key)
        if made is None:
            shared = name.lower() in _SHARED_NAMES
            made = _SHARED.get(key) if shared else None
            if made is None:
                made = super().__call__(name, value)
                if shared:
                    if len(_SHARED) >= _SHARED_LIMIT:
                        _SHARED.clear()
                    _SHARED[key] = made
            self._made[key] = made
        return made


# MIME headers whose values repeat from message to message ("text/plain; charset=utf-8", "7bit",
# "1.0"): their parsed header objects, immutable, are shared by every message this process reads,
# up to ``_SHARED_LIMIT`` distinct values (then the store starts again).
_SHARED_NAMES = frozenset({"content-type", "content-transfer-encoding", "content-disposition", "mime-version"})
_SHARED: dict[tuple[str, str], object] = {}
_SHARED_LIMIT = 2048


def reading_policy() -> EmailPolicy:
    """``email.policy.default`` with a header factory that parses each distinct header once.

    Make one per message parsed (its memory lives and goes with that message's objects): every
    part of the message, and ``HeaderReader`` on it, then share the parsed headers."""
    return policy.default.clone(header_factory=_HeadersParsedOnce())


class HeaderReader:
    """Header access that never raises: 8-bit bytes are decoded, parse failures recorded."""

    def __init__(self, msg: EmailMessage, defects: list[str], flaws: list[str] | None = None):
        self._raw: dict[str, list[str]] = {}
        for name, value in msg.raw_items():
            self._raw.setdefault(name.lower(), []).append(value)
        self._policy = msg.policy if isinstance(msg.policy, EmailPolicy) else policy.default
        self._defects = defects
        self._flaws = defects if flaws is None else flaws

    def _values(self, name: str) -> list[object]:
        return [parsed for _, parsed in self._pairs(name, _plain_reader(name))]

    def _pairs(self, name: str, plain: Callable[[str], object | None] | None = None) -> list[tuple[str, object]]:
        """(unfolded raw text, parsed header) for every occurrence of ``name``. A text ``plain``
        reads (not None) is not parsed: what ``plain`` read stands for the parsed header."""
        pairs: list[tuple[str, object]] = []
        for raw in self._raw.get(name.lower(), []):
            text = raw if isinstance(raw, str) else str(raw)
            if any("\udc80" <= c <= "\udcff" for c in text):
                text, utf8 = _decode_8bit(text)
                if not utf8:  # raw UTF-8 is allowed (RFC 6532); anything else is guessed at
                    self._flaws.append(f"8-bit characters in the {name} header are not UTF-8; read as Windows-1252")
            text = "".join(text.splitlines())
            known = plain(text) if plain is not None else None
            if known is not None:
                pairs.append((text, known))
                continue
            try:
                pairs.append((text, self._policy.header_fetch_parse(name, text)))
            except Exception as exc:
                self._defects.append(f"unparseable {name} header ({type(exc).__name__})")
                pairs.append((text, text))
        return pairs

    def stated_date(self) -> datetime | None:
        """The first Date header as a time (naive when it names no zone), read as the ``email``
        package's compatibility policy reads it (RFC 5322 §3.3); None when missing or unreadable."""
        value = next(iter(self._raw.get("date", [])), None)
        try:
            value = policy.compat32.header_fetch_parse("Date", value) if value is not None else None
            return parsedate_to_datetime(str(value)) if value else None
        except (TypeError, ValueError, IndexError):
            return None

    def text(self, name: str) -> str | None:
        texts = self.all_texts(name)
        return texts[0] if texts else None

    def all_texts(self, name: str) -> list[str]:
        return [safe_header_text(str(value)) for value in self._values(name)]

    def addresses(self, name: str) -> list[Address]:
        """Mailboxes in an address header. A malformed header is read the way mail programs
        show it: the last <angle address> of each item is the address and the rest its
        display name, so "jane@agency.example <evil@x.example>" is from evil@x.example."""
        found: list[Address] = []
        for text, value in self._pairs(name, _plain_mailboxes):
            items: list[tuple[str, str]] = []
            try:
                if isinstance(value, tuple):  # plain mailboxes, read as the parser reads them
                    items = list(value)
                elif any(isinstance(d, errors.InvalidHeaderDefect) for d in value.defects):  # type: ignore[attr-defined]
                    raise ValueError("malformed")
                else:
                    items = [(i.display_name, i.addr_spec) for i in value.addresses]  # type: ignore[attr-defined]
            except Exception:
                self._defects.append(f"malformed {name} header; read loosely")
                items = _loose_addresses(_decode_words(text))
            for display, address in items:
                if address and address != "<>":
                    found.append(Address(safe_header_text(display), safe_header_text(address)))
        return found

    def message_ids(self, name: str) -> list[str]:
        ids: list[str] = []
        for value in self._values(name):
            text = str(value)
            tokens = _MESSAGE_ID.findall(text)
            if not tokens and text.strip() and "@" in text and len(text.split()) == 1:
                tokens = [f"<{text.strip()}>"]  # seen from some mailers: an id without brackets
            ids.extend(safe_header_text(t) for t in tokens)
        return list(dict.fromkeys(ids))


_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"  # RFC 5322 atext
_ADDRESS = rf"{_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*"
_MAILBOX = rf"(?:({_ATOM}(?: {_ATOM})*) <({_ADDRESS})>|({_ADDRESS}))"
# Shapes the structured parser (policy.default) gives back exactly as written (checked in tests/intake).
_PLAIN_TEXT = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")  # no encoded word ("=?") either
_PLAIN_MESSAGE_ID = re.compile(rf"<{_ADDRESS}>")
_PLAIN_MAILBOXES = re.compile(rf"{_MAILBOX}(?:, {_MAILBOX})*")
_ONE_MAILBOX = re.compile(_MAILBOX)
_STRUCTURED = HeaderRegistry().registry  # header name (lower case) -> its class; any other is unstructured


def _plain_text(text: str) -> str | None:
    """``text`` when an unstructured header's parser would give it back as written, else None."""
    return text if "=?" not in text and _PLAIN_TEXT.fullmatch(text) else None


def _plain_message_id(text: str) -> str | None:
    return text if "=?" not in text and _PLAIN_MESSAGE_ID.fullmatch(text) else None


def _plain_reader(name: str) -> Callable[[str], str | None] | None:
    """How a plain value of header ``name`` is read without the parser; None when it is always parsed."""
    if name.lower() == "message-id":
        return _plain_message_id
    return _plain_text if issubclass(_STRUCTURED.get(name.lower(), UnstructuredHeader), UnstructuredHeader) else None


def _plain_mailboxes(text: str) -> tuple[tuple[str, str], ...] | None:
    """(display name, address) of each mailbox of a plain address list ("Jane Doe <jd@x.example>,
    jd@y.example"), as the parser reads them; None for any other address list."""
    if "=?" in text or not _PLAIN_MAILBOXES.fullmatch(text):  # an atom may hold "=?"; an encoded word is decoded
        return None
    return tuple((name or "", angled or bare) for name, angled, bare in _ONE_MAILBOX.findall(text))


def _decode_words(text: str) -> str:
    try:
        return str(make_header(decode_header(text)))
    except Exception:
        return text


def _split_items(text: str) -> list[str]:
    """Split an address list at commas outside quotes and angle brackets."""
    items, current, quoted, angle = [], [], False, 0
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == "<" and not quoted:
            angle += 1
        elif char == ">" and not quoted and angle:
            angle -= 1
        if char == "," and not quoted and not angle:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return items


def _loose_addresses(text: str) -> list[tuple[str, str]]:
    found = []
    for item in _split_items(text):
        item = item.strip()
        angles = _ANGLE_ADDRESS.findall(item)
        if angles:
            address = angles[-1].strip()
            display = item[: item.rfind("<")].strip().strip('"').strip()
        else:
            address, display = item.strip('"').strip(), ""
        if _is_plain_address(address):
            found.append((display, address))
    return found


def _decode_8bit(text: str) -> tuple[str, bool]:
    """Bytes the parser kept as surrogates, decoded as UTF-8 (True) or else Windows-1252 (False)."""
    data = text.encode("ascii", errors="surrogateescape")
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), False


def _is_plain_address(text: str) -> bool:
    """``local@domain.tld``: one ``@``, no space, angle bracket or quote, a dot inside the domain.
    Checked in one pass (the equivalent pattern backtracks quadratically on a domain of many dots)."""
    if not text or _NOT_IN_PLAIN_ADDRESS.search(text):
        return False
    local, _, domain = text.partition("@")
    return bool(local) and "@" not in domain and "." in domain[1:-1]


_FOLD = re.compile(r"\r?\n(?=[ \t])")
_LEDGER_HEADERS = (("subject", "Subject"), ("sender", "From"), ("message_id", "Message-ID"))
_PLAIN = {"Subject": _PLAIN_TEXT, "From": _ONE_MAILBOX, "Message-ID": _PLAIN_MESSAGE_ID}  # see _plain_text


def ledger_headers(raw: bytes | None) -> dict[str, str | None]:
    """Subject, sender and Message-ID for the ledger row, read leniently and made safe to show,
    as the structured headers of the message's full read give them (``policy.default``).

    Most mail's three headers are plain (``_PLAIN``): printable ASCII, no encoded word, a plain
    address and Message-ID, which the structured parser gives back as written. Those are taken
    from the raw header section (compat32, unfolded), six times quicker; any other is parsed."""
    if raw is None:
        return {}
    head = raw[:65536]
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(head)
        found = {key: _unfolded(headers.get(name)) for key, name in _LEDGER_HEADERS}
        if all(text is None or _plain(name, text) for (key, name), text in zip(_LEDGER_HEADERS, found.values())):
            return {key: None if text is None else safe_header_text(text)[:500] for key, text in found.items()}
    except Exception:  # noqa: BLE001 - read again below, leniently
        pass
    return _parsed_headers(head)


def _unfolded(value: object) -> object:
    """A compat32 header value unfolded; a value holding 8-bit bytes (a ``Header``) is left as it
    is, which no plain shape matches."""
    return _FOLD.sub("", value) if isinstance(value, str) else value


def _plain(name: str, text: object) -> bool:
    return isinstance(text, str) and "=?" not in text and _PLAIN[name].fullmatch(text) is not None


def _parsed_headers(head: bytes) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    try:
        headers = BytesHeaderParser(policy=policy.default).parsebytes(head)
        for key, name in _LEDGER_HEADERS:
            value = headers.get(name)
            found[key] = safe_header_text(str(value))[:500] if value is not None else None
    except Exception:  # noqa: BLE001 - a header the parser cannot read is the processor's to report
        return found
    return found
