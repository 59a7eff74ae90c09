"""Sender checks: allowed domains, display names pretending to be another address, and
Authentication-Results trusted only from our own receiving server."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from resdesk.intake.message import InboundMessage, parse_message
from resdesk.intake.senders import (
    Authentication,
    authserv_id_of,
    check_sender,
    display_name_address,
    domain_allowed,
    read_authentication_results,
)

OUR_SERVER = "mx.partnership.example"


def _mail(sender: str, *auth_results: str) -> InboundMessage:
    mail = EmailMessage()
    for value in auth_results:
        mail["Authentication-Results"] = value
    mail["From"] = sender
    mail["Subject"] = "Escalation & Resolution Protocol: Stage 1 Summary"
    mail.set_content("text\n")
    return parse_message(mail.as_bytes())


# --- allowed domains -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "domain, allowed, expected",
    [
        ("agency.example", ["agency.example"], True),
        ("Agency.Example", ["agency.example"], True),
        ("nhs.agency.example", ["agency.example"], True),
        ("evilagency.example", ["agency.example"], False),
        ("agency.example.evil.example", ["agency.example"], False),
        ("police.example", ["agency.example", "@police.example"], True),
        ("anything.example", [], True),
        ("school.example", ["agency.example", ""], False),
    ],
)
def test_domain_allowed(domain, allowed, expected):
    """GIVEN a sender domain and the configured list
    WHEN checked
    THEN exact domains and their subdomains pass, look-alikes do not, and an empty list admits all."""
    assert domain_allowed(domain, allowed) is expected


def test_sender_from_an_unlisted_domain_is_flagged():
    """GIVEN allowed domains that do not include the sender's
    WHEN the sender is checked
    THEN the verdict is not ok and says which domain."""
    verdict = check_sender(_mail("Jo <jo@school.example>"), ["agency.example"], None)
    assert not verdict.domain_allowed and not verdict.ok
    assert verdict.flags == ("the sender's domain school.example is not an allowed agency domain",)


def test_empty_allowed_list_accepts_every_sender():
    """GIVEN no allowed domains configured
    WHEN any honest sender is checked
    THEN the verdict is ok."""
    verdict = check_sender(_mail("Jo <jo@school.example>"), [], None)
    assert verdict.ok and verdict.domain_allowed
    assert (verdict.address, verdict.domain) == ("jo@school.example", "school.example")


# --- display names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sender, pretended",
    [
        ("Jane <jane@agency.example>", None),
        ("Jane Smith (Health Visiting) <jane@agency.example>", None),
        ('"jane@agency.example" <jane@agency.example>', None),
        ('"JANE@AGENCY.EXAMPLE" <jane@agency.example>', None),
        ('"jane@agency.example" <evil@x.example>', "jane@agency.example"),
        ('"Jane (jane@agency.example)" <evil@x.example>', "jane@agency.example"),
        ('"Jane via jane@agency.example" <evil@x.example>', "jane@agency.example"),
        ('"jane＠agency.example" <evil@x.example>', "jane@agency.example"),
    ],
)
def test_display_name_pretending_to_be_another_address_is_flagged(sender, pretended):
    """GIVEN a From header whose display name may contain an address
    WHEN the sender is checked
    THEN only a display-name address different from the real one is flagged."""
    verdict = check_sender(_mail(sender), [], None)
    assert verdict.display_name_address == pretended
    assert verdict.spoofing is (pretended is not None)
    if pretended:
        assert any(pretended in flag and "evil@x.example" in flag for flag in verdict.flags)
    else:
        assert verdict.ok


@pytest.mark.parametrize(
    "from_header",
    [
        b"jane@agency.example <evil@x.example>",
        b"Jane jane@agency.example <evil@x.example>",
        b"=?utf-8?q?jane=40agency=2Eexample?= <evil@x.example>",
        b"=?utf-8?q?jane=40agency=2Eexample_?=<evil@x.example>",
    ],
)
def test_unquoted_address_as_display_name_is_flagged(from_header):
    """GIVEN a raw From header whose display name is an address, unquoted or encoded
    (mail programs show the name and reply to the angle address)
    WHEN the message is parsed and its sender checked
    THEN the real address is the angle address and the display name is flagged as spoofing."""
    msg = parse_message(b"From: " + from_header + b"\r\nSubject: x\r\n\r\nbody\r\n")
    verdict = check_sender(msg, ["agency.example"], None)
    assert verdict.address == "evil@x.example"
    assert verdict.display_name_address == "jane@agency.example"
    assert not verdict.domain_allowed and verdict.spoofing


def test_display_name_address_helper():
    """GIVEN names with and without addresses
    WHEN inspected
    THEN a different address is returned, the same or none gives None."""
    assert display_name_address("Jane", "jane@agency.example") is None
    assert display_name_address("jane@agency.example", "jane@agency.example") is None
    assert display_name_address("boss@agency.example", "jane@agency.example") == "boss@agency.example"


def test_no_from_address_is_flagged():
    """GIVEN a message without a From header
    WHEN the sender is checked
    THEN the verdict says so and is not ok."""
    msg = parse_message(b"Subject: x\r\n\r\nbody\r\n")
    verdict = check_sender(msg, [], OUR_SERVER)
    assert verdict.flags == ("the message has no From address",) and not verdict.ok


# --- Authentication-Results ----------------------------------------------------------------


def test_authserv_id_is_the_first_token_without_comments_or_version():
    """GIVEN Authentication-Results headers with a version and comments
    WHEN the authserv-id is read
    THEN it is the first token, lower case."""
    assert authserv_id_of("MX.Partnership.Example 1; dkim=pass") == "mx.partnership.example"
    assert authserv_id_of("(comment) mx.partnership.example; spf=pass") == "mx.partnership.example"
    assert authserv_id_of("; nothing") == ""


def test_results_from_our_server_are_read():
    """GIVEN a header from our receiving server with comments and several DKIM results
    WHEN it is read
    THEN DMARC, DKIM (any pass wins) and SPF come out in lower case."""
    header = (
        "mx.partnership.example; dkim=fail (bad sig) header.d=x.example; "
        "dkim=PASS (2048-bit key) header.d=agency.example; spf=pass smtp.mailfrom=agency.example; "
        'dmarc=pass (p=reject dis=none) header.from=agency.example; arc=none reason="a;b"'
    )
    assert read_authentication_results([header], OUR_SERVER) == Authentication(dmarc="pass", dkim="pass", spf="pass", aligned=True)


def test_headers_from_other_servers_are_ignored():
    """GIVEN a forged header claiming dmarc=pass under another server's id, then ours with a fail
    WHEN the sender is checked
    THEN only our server's result counts, and the DMARC failure is flagged."""
    msg = _mail(
        "Jane <jane@agency.example>",
        "evil.example; dmarc=pass header.from=agency.example",
        f"{OUR_SERVER}; dmarc=fail header.from=agency.example",
    )
    verdict = check_sender(msg, ["agency.example"], OUR_SERVER)
    assert verdict.authentication == Authentication(dmarc="fail")
    assert verdict.flags == ("our mail server found DMARC fail for agency.example",)


def test_a_forged_header_with_our_id_only_matters_if_ours_is_first():
    """GIVEN two headers carrying our id (ours added on top, a forged one lower down)
    WHEN results are read
    THEN the topmost, which our server added, is used."""
    results = read_authentication_results(
        [f"{OUR_SERVER}; dmarc=fail", f"{OUR_SERVER}; dmarc=pass"], OUR_SERVER
    )
    assert results == Authentication(dmarc="fail")


def test_without_a_configured_server_id_no_header_is_trusted():
    """GIVEN no configured authserv-id
    WHEN a message with a failing Authentication-Results is checked
    THEN the header is not read and nothing is flagged from it."""
    msg = _mail("Jane <jane@agency.example>", f"{OUR_SERVER}; dmarc=fail")
    verdict = check_sender(msg, [], None)
    assert verdict.authentication is None and verdict.ok


def test_lookalike_server_id_is_not_ours():
    """GIVEN a header from a server whose id merely contains ours
    WHEN it is read
    THEN it is ignored."""
    assert read_authentication_results(["mx.partnership.example.evil.example; dmarc=fail"], OUR_SERVER) is None


@pytest.mark.parametrize(
    "header, flagged",
    [
        (f"{OUR_SERVER}; spf=fail smtp.mailfrom=agency.example", True),
        (f"{OUR_SERVER}; spf=softfail; dkim=none", True),
        (f"{OUR_SERVER}; spf=fail; dkim=pass header.d=agency.example", False),
        (f"{OUR_SERVER}; spf=fail; dmarc=pass", False),
        (f"{OUR_SERVER}; dmarc=permerror", True),
        (f"{OUR_SERVER}; none", False),
        (f"{OUR_SERVER}; spf=pass; dkim=pass; dmarc=pass", False),
    ],
)
def test_authentication_failures_are_flagged(header, flagged):
    """GIVEN our server's results
    WHEN the sender is checked
    THEN DMARC failure, or SPF failure without DKIM or DMARC to save it, is flagged."""
    verdict = check_sender(_mail("Jane <jane@agency.example>", header), ["agency.example"], OUR_SERVER)
    assert (not verdict.ok) is flagged


# --- alignment by organisational domain ----------------------------------------------------


def _aligned_by(result: str, from_domain: str) -> bool:
    authentication = read_authentication_results([f"{OUR_SERVER}; {result}"], OUR_SERVER, from_domain)
    assert authentication is not None
    return authentication.aligned


@pytest.mark.parametrize(
    "result, from_domain",
    [
        ("dkim=pass header.d=mail.agency.example", "news.agency.example"),
        ("spf=pass smtp.mailfrom=bounces.agency.example", "agency.example"),
        ("dkim=pass header.d=nhs.net", "mail.nhs.net"),
        ("dkim=pass header.d=mail.nhs.net", "nhs.net"),
        ("spf=pass smtp.mailfrom=mx1.oldham.gov.uk", "oldham.gov.uk"),
        ("dkim=pass header.d=Mail.Agency.Example.", "news.agency.example."),
        ("dkim=pass header.i=@mail.agency.example", "agency.example"),
        ("dkim=pass header.i=jane.smith@mail.agency.example", "news.agency.example"),
        ("spf=pass smtp.helo=mx.school.county.sch.uk", "school.county.sch.uk"),
        ("dkim=pass header.d=xn--bcher-kva.example", "mail.bücher.example"),
        ("dkim=pass header.d=gov.scot", "gov.scot"),
    ],
)
def test_a_pass_in_the_from_domains_organisation_is_aligned(result, from_domain):
    """GIVEN an SPF or DKIM pass for a domain in the From domain's organisation — a sibling or parent
    sub-domain, a header.i identity with or without a local part, any case, a trailing dot, an
    internationalised name in its ASCII form, a domain only the list's private section names
    (gov.scot: only the ICANN section is read)
    WHEN our server's results are read
    THEN the pass is aligned (RFC 7489 §3.1: the same organisational domain)."""
    assert _aligned_by(result, from_domain)


@pytest.mark.parametrize(
    "result, from_domain",
    [
        ("dkim=pass header.d=haringey.gov.uk", "oldham.gov.uk"),
        ("spf=pass smtp.mailfrom=mail.haringey.gov.uk", "oldham.gov.uk"),
        ("dkim=pass header.d=gov.uk", "oldham.gov.uk"),
        ("dkim=pass header.d=co.uk", "co.uk"),
        ("spf=pass smtp.mailfrom=co.uk", "agency.co.uk"),
        ("dkim=pass header.d=trust-a.nhs.uk", "trust-b.nhs.uk"),
        ("dkim=pass header.d=nhs.net", "nhs.net.evil.example"),
        ("dkim=pass header.d=agency.example", "evilagency.example"),
        ("dkim=pass header.i=@", "agency.example"),
        ("dkim=pass header.d=mail..agency.example", "agency.example"),
    ],
)
def test_a_pass_across_an_organisation_or_public_suffix_is_not_aligned(result, from_domain):
    """GIVEN an SPF or DKIM pass for a domain of another organisation — two councils under gov.uk,
    two trusts under nhs.uk, a public suffix itself, a look-alike, an empty or malformed name
    WHEN our server's results are read
    THEN the pass is not aligned: a public suffix is no organisational domain (RFC 7489 §3.2)."""
    assert not _aligned_by(result, from_domain)


def test_a_sibling_sub_domains_signature_verifies_the_sender():
    """GIVEN an allowed agency whose mail is signed by a sibling sub-domain of its From domain, with
    no DMARC result from our server
    WHEN the sender is checked
    THEN the sender is verified."""
    msg = _mail("Jane <jane@news.agency.example>", f"{OUR_SERVER}; dkim=pass header.d=mail.agency.example")
    verdict = check_sender(msg, ["agency.example"], OUR_SERVER)
    assert verdict.verification == "verified" and verdict.ok


def test_a_signature_from_another_council_under_gov_uk_does_not_verify_the_sender():
    """GIVEN mail from one council signed only by another council under the same public suffix
    WHEN the sender is checked
    THEN the sender is unverified."""
    msg = _mail("Jo <jo@oldham.gov.uk>", f"{OUR_SERVER}; dkim=pass header.d=haringey.gov.uk")
    verdict = check_sender(msg, ["oldham.gov.uk"], OUR_SERVER)
    assert verdict.verification == "unverified"


@pytest.mark.parametrize(
    "results, verified",
    [
        ("dmarc=fail header.from=news.agency.example; dkim=pass header.d=mail.agency.example", False),
        ("dmarc=none header.from=news.agency.example; dkim=pass header.d=mail.agency.example", True),
        ("dmarc=temperror header.from=news.agency.example; spf=pass smtp.mailfrom=mail.agency.example", True),
        ("dmarc=pass header.from=news.agency.example; dkim=fail header.d=mail.agency.example", True),
    ],
)
def test_a_dmarc_fail_from_our_server_overrules_a_relaxed_pass(results, verified):
    """GIVEN mail whose DKIM or SPF passes for a sibling sub-domain of its From domain
    WHEN our server also says DMARC failed (the domain owner asked for strict alignment), or gives no
    DMARC verdict, or an error, or a pass
    THEN a DMARC fail leaves the sender unverified whatever else passed (RFC 7489 §6.3); otherwise the
    relaxed reading (or DMARC's own pass) decides."""
    msg = _mail("Jane <jane@news.agency.example>", f"{OUR_SERVER}; {results}")
    verdict = check_sender(msg, ["agency.example"], OUR_SERVER)
    assert (verdict.verification == "verified") is verified
