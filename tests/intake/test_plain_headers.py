"""Plain header values are read as written, and read exactly as the structured parser reads them."""

from __future__ import annotations

from email import policy

import pytest

from resdesk.intake.headers import _plain_mailboxes, _plain_message_id, _plain_text
from resdesk.intake.message import parse_message

PARSE = policy.default.header_factory

PLAIN_ADDRESSES = [
    "Practitioner 7 <p7@agency3.example>",
    "p7@agency3.example",
    "O'Brien-Smith <ob@police.example>",
    "A B C <abc@nhs.example>, jd@council.example, Jane Doe <jane.doe@a.b.example>",
    "x <a@b>",
]
NOT_PLAIN_ADDRESSES = [
    '"Smith, John" <js@council.example>',
    "J. Smith <js@council.example>",
    "js@council.example (John Smith)",
    "=?utf-8?q?Doe=2C_Jos=C3=A9?= <j@x.org>",
    "x=?y <a@b>",
    "undisclosed-recipients:;",
    "Smith  <js@council.example>",
    "a@b,c@d",
    "jane@agency.example <evil@x.example>",
    "<a@b>",
    "a@[127.0.0.1]",
]
PLAIN_TEXTS = ["Escalation & Resolution Protocol: Stage 2 Summary", "two  spaces  inside", "RE: (OLD-2026-0007) x", "<a@b>"]
NOT_PLAIN_TEXTS = ["=?utf-8?q?R=C3=A9sum=C3=A9?=", "  leading", "trailing ", "R\u00e9sum\u00e9", "tab\there", ""]
PLAIN_IDS = ["<bench-7@agency.example>", "<a.b-c+d@host.agency.example>"]
NOT_PLAIN_IDS = ["<a=?utf-8?q?b?=@x>", "<1@x> (comment)", "no-angle-brackets@x", "< spaced@x >", "<x@[127.0.0.1]>"]


@pytest.mark.parametrize("value", PLAIN_ADDRESSES + NOT_PLAIN_ADDRESSES)
def test_a_plain_address_list_reads_as_the_parser_reads_it(value):
    """GIVEN an address header, plain or not WHEN it is taken as plain THEN each mailbox's display
    name and address are the structured parser's, which finds no fault in it."""
    read = _plain_mailboxes(value)
    assert (read is not None) == (value in PLAIN_ADDRESSES)
    if read is not None:
        parsed = PARSE("To", value)
        assert read == tuple((a.display_name, a.addr_spec) for a in parsed.addresses)
        assert parsed.defects == ()


@pytest.mark.parametrize("value", PLAIN_TEXTS + NOT_PLAIN_TEXTS)
def test_a_plain_text_reads_as_the_parser_reads_it(value):
    """GIVEN an unstructured header's text WHEN it is taken as plain THEN the parser gives it back as written."""
    read = _plain_text(value)
    assert (read is not None) == (value in PLAIN_TEXTS)
    if read is not None:
        assert str(PARSE("Subject", value)) == read == str(PARSE("References", value))


@pytest.mark.parametrize("value", PLAIN_IDS + NOT_PLAIN_IDS)
def test_a_plain_message_id_reads_as_the_parser_reads_it(value):
    """GIVEN a Message-ID WHEN it is taken as plain THEN the parser gives it back as written."""
    read = _plain_message_id(value)
    assert (read is not None) == (value in PLAIN_IDS)
    if read is not None:
        assert str(PARSE("Message-ID", value)) == read


def test_a_message_of_plain_headers_reads_as_one_of_parsed_headers():
    """GIVEN the same message with plain headers and with headers folded and quoted so that each is
    parsed WHEN both are read THEN sender, recipients, subject and thread ids are the same."""
    plain = (b"From: Jane Doe <jane@agency.example>\r\nTo: escalations@partnership.example, Bob <b@x.example>\r\n"
             b"Subject: Stage 2 Summary\r\nMessage-ID: <m1@agency.example>\r\nIn-Reply-To: <m0@agency.example>\r\n"
             b"\r\nHello\r\n")
    parsed = (b'From: "Jane Doe" <jane@agency.example>\r\nTo: escalations@partnership.example,\r\n "Bob" <b@x.example>\r\n'
              b"Subject: =?utf-8?q?Stage_2_Summary?=\r\nMessage-ID: <m1@agency.example> \r\nIn-Reply-To: <m0@agency.example>\r\n"
              b"\r\nHello\r\n")
    quick, slow = parse_message(plain), parse_message(parsed)
    assert (quick.sender, quick.to, quick.subject, quick.message_id, quick.in_reply_to) == (
        slow.sender, slow.to, slow.subject, slow.message_id, slow.in_reply_to)
    assert quick.defects == slow.defects == ()


def test_mime_headers_shared_between_messages_stay_bounded_and_read_per_message():
    """GIVEN more messages with distinct Content-Type values than the shared store keeps WHEN all are
    parsed THEN each message still reads its own attachment type and name, and the store stays bounded."""
    from resdesk.intake import headers

    for n in range(headers._SHARED_LIMIT + 50):
        raw = (b"From: a@b.example\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
               b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n"
               b"Content-Type: application/x-form-%d; name=f%d.bin\r\n\r\ndata\r\n--b--\r\n" % (n, n))
        message = parse_message(raw)
        assert [(a.filename, a.content_type) for a in message.attachments] == [(f"f{n}.bin", f"application/x-form-{n}")]
        assert len(headers._SHARED) <= headers._SHARED_LIMIT
