"""Whether a message's sender can be believed (pure): allowed domains, display names that
pretend to be another address, and ``Authentication-Results`` from our own receiving server.

An ``Authentication-Results`` header is only evidence when its authserv-id is the one the
partnership configured (RFC 8601 §5: headers claiming to be from our server but added
elsewhere must be ignored). With no configured id, none is read.

Allowed domains match the sender's domain or any subdomain of it, case-insensitively
(``agency.example`` admits ``nhs.agency.example``); an empty list admits every domain.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from resdesk.intake.message import InboundMessage

_ADDRESS_IN_NAME = re.compile(r"[^\s<>()\"',;:\[\]]+@[^\s<>()\"',;:\[\]]+\.[^\s<>()\"',;:\[\]]+")
_RESULT = re.compile(r"^\s*([a-z0-9_-]+)\s*=\s*([a-z]+)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Authentication:
    """Results read from the trusted ``Authentication-Results`` header (lower case)."""

    dmarc: str | None = None
    dkim: str | None = None
    spf: str | None = None


@dataclass(frozen=True)
class SenderVerdict:
    """What is known about the sender; ``flags`` are sentences for a person, empty when all is well."""

    address: str | None
    domain: str | None
    domain_allowed: bool
    display_name_address: str | None
    authentication: Authentication | None
    flags: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.flags

    @property
    def spoofing(self) -> bool:
        return self.display_name_address is not None


def domain_allowed(domain: str, allowed_domains: list[str]) -> bool:
    """True if ``domain`` is one of ``allowed_domains`` or under one; an empty list allows all."""
    if not allowed_domains:
        return True
    domain = domain.strip().rstrip(".").lower()
    for allowed in allowed_domains:
        allowed = allowed.strip().lstrip("@").lstrip(".").rstrip(".").lower()
        if allowed and (domain == allowed or domain.endswith("." + allowed)):
            return True
    return False


def display_name_address(display_name: str, address: str) -> str | None:
    """An e-mail address written in the display name that is not the real address, if any."""
    name = unicodedata.normalize("NFKC", display_name)
    for found in _ADDRESS_IN_NAME.findall(name):
        candidate = found.strip(".").lower()
        if candidate != address.strip().lower():
            return found
    return None


def _without_comments(value: str) -> str:
    """The header value with (comments) removed, respecting nesting and quoted strings."""
    out: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\":
            escaped = True
            if depth == 0:
                out.append(char)
            continue
        if char == '"' and depth == 0:
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
            continue
        elif not quoted and char == ")" and depth:
            depth -= 1
            continue
        if depth == 0:
            out.append(char)
    return "".join(out)


def _split_semicolons(value: str) -> list[str]:
    parts, current, quoted = [], [], False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def authserv_id_of(header: str) -> str:
    """The authserv-id an ``Authentication-Results`` header names (its first token)."""
    head = _split_semicolons(_without_comments(header))[0].split()
    return head[0].lower().rstrip(".") if head else ""


def read_authentication_results(headers: tuple[str, ...] | list[str], authserv_id: str | None) -> Authentication | None:
    """Results from the first header whose authserv-id is ours; None when there is none."""
    if not authserv_id:
        return None
    wanted = authserv_id.strip().lower().rstrip(".")
    for header in headers:
        if authserv_id_of(header) != wanted:
            continue
        results: dict[str, list[str]] = {}
        for resinfo in _split_semicolons(_without_comments(header))[1:]:
            match = _RESULT.match(resinfo)
            if match:
                results.setdefault(match.group(1).lower(), []).append(match.group(2).lower())
        return Authentication(
            dmarc=_best(results.get("dmarc")),
            dkim=_best(results.get("dkim")),
            spf=_best(results.get("spf")),
        )
    return None


def _best(values: list[str] | None) -> str | None:
    """One verdict per method: any pass wins (a message may carry several DKIM signatures)."""
    if not values:
        return None
    return "pass" if "pass" in values else values[0]


def check_sender(msg: InboundMessage, allowed_domains: list[str], authserv_id: str | None) -> SenderVerdict:
    """Judge the sender of ``msg``: allowed domain, honest display name, trusted authentication."""
    flags: list[str] = []
    sender = msg.sender
    if sender is None:
        return SenderVerdict(None, None, False, None, None, ("the message has no From address",))
    domain = sender.domain
    allowed = domain_allowed(domain, allowed_domains)
    if not allowed:
        flags.append(f"the sender's domain {domain} is not an allowed agency domain")
    pretended = display_name_address(sender.name, sender.address)
    if pretended:
        flags.append(
            f"the display name shows {pretended} but the message is from {sender.address}"
        )
    auth = read_authentication_results(msg.authentication_results, authserv_id)
    if auth is not None:
        if auth.dmarc in ("fail", "permerror"):
            flags.append(f"our mail server found DMARC {auth.dmarc} for {domain}")
        elif auth.dmarc is None and auth.spf in ("fail", "softfail") and auth.dkim != "pass":
            flags.append(f"our mail server found SPF {auth.spf} and no valid DKIM signature for {domain}")
    return SenderVerdict(sender.address, domain, allowed, pretended, auth, tuple(flags))
