"""The ledger row's subject, sender and Message-ID read as the message's full read gives them,
whether taken quickly from a plain header section or parsed."""

from __future__ import annotations

from email import policy
from email.parser import BytesHeaderParser

import pytest

from resdesk.intake.headers import _plain, ledger_headers, safe_header_text


def _full_read(raw: bytes) -> dict[str, str | None]:
    headers = BytesHeaderParser(policy=policy.default).parsebytes(raw)
    return {key: None if headers.get(name) is None else safe_header_text(str(headers.get(name)))[:500]
            for key, name in (("subject", "Subject"), ("sender", "From"), ("message_id", "Message-ID"))}


def _message(subject: bytes, sender: bytes, message_id: bytes | None) -> bytes:
    lines = [b"From: " + sender, b"To: escalations@partnership.example", b"Subject: " + subject]
    if message_id is not None:
        lines.append(b"Message-ID: " + message_id)
    return b"\r\n".join(lines) + b"\r\n\r\nbody\r\n"


PLAIN = [
    (b"Escalation & Resolution Protocol: Stage 2 Summary", b"Practitioner 7 <p7@agency3.example>", b"<bench-7@agency.example>"),
    (b"RE: (OLD-2026-0007) thanks", b"p7@agency3.example", b"<a.b-c+d@host.agency.example>"),
    (b"Stage 1 Summary\r\n  folded over two lines", b"O'Brien-Smith <ob@police.example>", None),
    (b"two  spaces  inside", b"A B C <abc@nhs.example>", b"<x@y>"),
]

NOT_PLAIN = [
    ("R\u00e9sum\u00e9 f\u00fcr J\u00fcrgen".encode(), b"Jos\xc3\xa9 <j@x.example>", "<a\u00e9@x.example>".encode()),
    (b"=?utf-8?q?R=C3=A9sum=C3=A9?=", b"=?utf-8?q?Doe=2C_Jos=C3=A9?= <j@x.org>", b"<a=?utf-8?q?b?=@x>"),
    (b"Stage 2", b'"Smith, John" <js@council.example>', b"<1@x> (comment)"),
    (b"Stage 2", b"J. Smith <js@council.example>", b"no-angle-brackets@x"),
    (b"Stage 2", b'"John Smith" <js@council.example>', b"< spaced@x >"),
    (b"Stage 2", b"js@council.example (John Smith)", b"<x@[127.0.0.1]>"),
    (b"  leading and trailing  ", b"Smith <js@council.example>, Jones <jj@council.example>", b"<x@y>"),
    (b"caf\xe9 in cp1252", b"undisclosed-recipients:;", b"<x@y>"),
]


@pytest.mark.parametrize("subject, sender, message_id", PLAIN + NOT_PLAIN)
def test_the_ledger_row_reads_as_the_full_read(subject, sender, message_id):
    """GIVEN a header section, plain or not (raw UTF-8 and cp1252, encoded words, quoted and dotted
    names, comments, groups, odd Message-IDs) WHEN the ledger row's headers are read THEN they
    equal the structured parser's."""
    raw = _message(subject, sender, message_id)
    assert ledger_headers(raw) == _full_read(raw)


@pytest.mark.parametrize("subject, sender, message_id", PLAIN)
def test_plain_headers_take_the_quick_read(subject, sender, message_id):
    """GIVEN an ordinary header section WHEN checked THEN every header is plain, so it is not parsed."""
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(_message(subject, sender, message_id))
    for name in ("Subject", "From", "Message-ID"):
        value = headers.get(name)
        assert value is None or _plain(name, value.replace("\r\n", "").replace("\n", ""))


def test_no_headers_and_no_message():
    """GIVEN no message, or one with none of the three headers THEN nothing, or each None."""
    assert ledger_headers(None) == {}
    assert ledger_headers(b"X-Other: 1\r\n\r\nbody\r\n") == {"subject": None, "sender": None, "message_id": None}
