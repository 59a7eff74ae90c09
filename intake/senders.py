"""Whether a message's sender can be believed (pure): allowed domains, display names that
pretend to be another address, and ``Authentication-Results`` from our own receiving server.

An ``Authentication-Results`` header (read with the ``authres`` library) is only evidence when
its authserv-id is the one the partnership configured (RFC 8601 §5: headers claiming to be from
our server but added elsewhere must be ignored). A sender is *verified* when that header says
DMARC passed, or SPF or DKIM passed for a domain aligned with the From domain: one with the same
organisational domain by the public suffix list (relaxed alignment, RFC 7489 §3.1 and §3.2;
``_aligned`` says how the list is read). It is *unverified* otherwise — no header from our
server, or no aligned pass. With no configured id nothing can be checked, so every sender is
*not-checked*: intake then trusts the From address as before (``intake.authority`` says what
each verdict may do) and ``resdesk check`` warns.

Allowed domains match the sender's domain or any subdomain of it, case-insensitively
(``agency.example`` admits ``nhs.agency.example``); an empty list admits every domain.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Literal

import authres
from publicsuffixlist import PublicSuffixList

from resdesk.intake.message import InboundMessage

_NOT_IN_ADDRESS = re.compile(r"[\s<>()\"',;:\[\]]+")


@dataclass(frozen=True)
class Authentication:
    """Results read from the trusted ``Authentication-Results`` header (lower case)."""

    dmarc: str | None = None
    dkim: str | None = None
    spf: str | None = None
    aligned: bool = False  # DMARC pass, or SPF/DKIM pass in the From domain's organisation


Verification = Literal["verified", "unverified", "not-checked"]


@dataclass(frozen=True)
class SenderVerdict:
    """What is known about the sender; ``flags`` are sentences for a person, empty when all is well."""

    address: str | None
    domain: str | None
    domain_allowed: bool
    display_name_address: str | None
    authentication: Authentication | None
    flags: tuple[str, ...]
    verification: Verification = "not-checked"

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
    """An e-mail address written in the display name that is not the real address, if any.

    The name is split at spaces and punctuation first (one linear pass); a word is an address when
    it has an ``@`` after its first character and a dot between characters after that. (A pattern
    searching for an address across the whole name backtracks quadratically on a long name.)"""
    name = unicodedata.normalize("NFKC", display_name)
    for word in _NOT_IN_ADDRESS.split(name):
        at = word.find("@")
        dot = word.rfind(".")
        if at >= 1 and at + 1 < dot < len(word) - 1:
            if word.strip(".").lower() != address.strip().lower():
                return word
    return None


def authserv_id_of(header: str) -> str:
    """The authserv-id an ``Authentication-Results`` header names (RFC 8601 §2.2), lower case;
    empty when the header cannot be parsed."""
    parsed = _parse(header)
    return parsed.authserv_id.lower().rstrip(".") if parsed is not None and parsed.authserv_id else ""


def _parse(header: str):
    try:
        return authres.AuthenticationResultsHeader.parse_value(" ".join(header.split()))
    except Exception:  # authres raises its own errors (and others) on malformed headers
        return None


@cache
def _icann_suffixes() -> PublicSuffixList:
    """The ICANN section of the public suffix list the library ships (it reads only its own bundled
    file, never the network). One instance, built on first use: parsing the list is not free."""
    return PublicSuffixList(only_icann=True)


def _organisational_domain(domain: str) -> str | None:
    """The registrable domain of ``domain`` — its public suffix plus one label (RFC 7489 §3.2) — in
    lower-case ASCII; None for a public suffix itself (``co.uk``, ``gov.uk``) or a malformed name.

    A name under no listed suffix (``agency.example``) falls to the list's default rule: its last
    label is the suffix."""
    domain = domain.strip().rstrip(".").lower()
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")  # DKIM's d= is in A-labels
        except UnicodeError:
            return None
    return _icann_suffixes().privatesuffix(domain) if domain else None


def _aligned(domain: str | None, from_domain: str) -> bool:
    """Relaxed alignment (RFC 7489 §3.1.1, §3.1.2): both domains have the same organisational
    domain (§3.2), so ``mail.agency.example`` aligns with ``news.agency.example``, while two councils
    under ``gov.uk`` do not, and a public suffix aligns with nothing. ``domain`` may be a
    ``header.i`` identity (``user@…`` or ``@…``); case and a trailing dot are ignored.

    Only the list's ICANN section is read. §3.2 asks for names "reserved for registrations" by
    registries (``co.uk``, ``com``) and names no section; the private section is names that
    platforms and organisations split for browsers, and the list's own notes on its uses suggest
    DMARC leave it out. It also holds organisations that send their own mail (``gov.scot``), which
    with it could never align, not even with themselves. The cost: two tenants of one platform
    (``a.service.gov.uk``, ``b.service.gov.uk``) align; a message is still verified only from an
    allowed domain."""
    if not domain or not from_domain:
        return False
    organisation = _organisational_domain(domain.rpartition("@")[2])
    return organisation is not None and organisation == _organisational_domain(from_domain)


def read_authentication_results(
    headers: tuple[str, ...] | list[str], authserv_id: str | None, from_domain: str = ""
) -> Authentication | None:
    """Results from the first header whose authserv-id is ours; None when there is none.

    ``aligned`` is True when DMARC passed, or SPF passed for ``smtp.mailfrom`` or DKIM for
    ``header.d`` in ``from_domain``'s organisation (RFC 7489 §3.1, §3.2). When our server
    evaluated DMARC and it failed, nothing aligns: the domain owner's policy (strict alignment,
    ``adkim=s``/``aspf=s``, RFC 7489 §6.3) has already said no, and a looser reading here must not
    overrule it. A DMARC ``none``, ``temperror`` or ``permerror`` leaves SPF and DKIM to decide."""
    if not authserv_id:
        return None
    wanted = authserv_id.strip().lower().rstrip(".")
    from_domain = from_domain.strip().rstrip(".").lower()
    for header in headers:
        parsed = _parse(header)
        if parsed is None or (parsed.authserv_id or "").lower().rstrip(".") != wanted:
            continue
        results: dict[str, list[str]] = {}
        aligned = False
        for result in parsed.results:
            method, verdict = str(result.method).lower(), str(result.result).lower()
            results.setdefault(method, []).append(verdict)
            if verdict != "pass":
                continue
            properties = {f"{p.type}.{p.name}".lower(): str(p.value) for p in result.properties}
            if method == "dmarc":
                aligned = True
            elif method == "spf" and _aligned(properties.get("smtp.mailfrom") or properties.get("smtp.helo"), from_domain):
                aligned = True
            elif method == "dkim" and _aligned(properties.get("header.d") or properties.get("header.i"), from_domain):
                aligned = True
        if _best(results.get("dmarc")) == "fail":
            aligned = False
        return Authentication(
            dmarc=_best(results.get("dmarc")),
            dkim=_best(results.get("dkim")),
            spf=_best(results.get("spf")),
            aligned=aligned,
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
    auth = read_authentication_results(msg.authentication_results, authserv_id, domain)
    verification: Verification = "not-checked" if not authserv_id else (
        "verified" if auth is not None and auth.aligned and allowed and not pretended else "unverified")
    if auth is not None:
        if auth.dmarc in ("fail", "permerror"):
            flags.append(f"our mail server found DMARC {auth.dmarc} for {domain}")
        elif auth.dmarc is None and auth.spf in ("fail", "softfail") and auth.dkim != "pass":
            flags.append(f"our mail server found SPF {auth.spf} and no valid DKIM signature for {domain}")
    return SenderVerdict(sender.address, domain, allowed, pretended, auth, tuple(flags), verification)
