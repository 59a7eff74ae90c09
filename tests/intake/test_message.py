"""Reading raw messages: headers, bodies, attachments (winmail.dat too), odd MIME, header safety."""

from __future__ import annotations

import base64
import struct
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resdesk.intake.message import (
    RESDESK_CASE_HEADER,
    Attachment,
    UnreadableMessage,
    parse_message,
    safe_header_text,
)
from resdesk.intake.winmail import WinmailError, read_winmail
from resdesk.errors import IntakeError

TNEF = Path("/work/shared/corpus/tnef")


def _with_winmail(tnef: bytes, *, body: bytes = b"Please see the attached notice.") -> bytes:
    encoded = base64.encodebytes(tnef)
    return (
        b"From: Jo Bloggs <jo@school.example>\r\nTo: inbox@partnership.example\r\n"
        b"Subject: Resolution Notice\r\nMessage-ID: <w1@school.example>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
        b"--B\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" + body + b"\r\n"
        b"--B\r\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\r\n"
        b"Content-Disposition: attachment; filename=\"winmail.dat\"\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded + b"--B--\r\n"
    )


# --- headers -------------------------------------------------------------------------------


def test_headers_are_decoded_into_the_fields_intake_needs():
    """GIVEN a summary with encoded words, several recipients and thread headers
    WHEN it is parsed
    THEN subject, sender, recipients, ids and protocol headers come out decoded."""
    raw = (
        b"Return-Path: <jo@school.example>\r\n"
        b"From: =?utf-8?q?J=C3=B6_Bloggs?= <Jo@School.example>\r\n"
        b"To: Inbox <inbox@partnership.example>, other@partnership.example\r\n"
        b"Cc: =?iso-8859-1?q?Ren=E9e?= <renee@health.example>\r\n"
        b"Subject: =?utf-8?b?UkU6IEVzY2FsYXRpb24gJiBSZXNvbHV0aW9uIFByb3RvY29sOiBTdGFnZSAyIFN1bW1hcnk=?=\r\n"
        b"Message-ID: <abc.123@school.example>\r\n"
        b"In-Reply-To: <ack-7@partnership.example>\r\n"
        b"References: <first@school.example>\r\n <ack-7@partnership.example>\r\n"
        b"Auto-Submitted: No\r\nPrecedence: Bulk\r\n"
        b"X-Resdesk-Case: OLD-2026-0007\r\n"
        b"Authentication-Results: mx.partnership.example; dkim=pass\r\n"
        b"\r\nHello\r\n"
    )
    msg = parse_message(raw)
    assert msg.subject == "RE: Escalation & Resolution Protocol: Stage 2 Summary"
    assert msg.sender is not None
    assert (msg.sender.name, msg.sender.address, msg.sender.domain) == ("Jö Bloggs", "Jo@School.example", "school.example")
    assert [a.address for a in msg.to] == ["inbox@partnership.example", "other@partnership.example"]
    assert [(a.name, a.address) for a in msg.cc] == [("Renée", "renee@health.example")]
    assert msg.message_id == "<abc.123@school.example>"
    assert msg.in_reply_to == ("<ack-7@partnership.example>",)
    assert msg.references == ("<first@school.example>", "<ack-7@partnership.example>")
    assert msg.thread_ids == ("<ack-7@partnership.example>", "<first@school.example>")
    assert (msg.auto_submitted, msg.precedence) == ("no", "bulk")
    assert msg.resdesk_case == "OLD-2026-0007"
    assert msg.authentication_results == ("mx.partnership.example; dkim=pass",)
    assert msg.return_path == "<jo@school.example>" and not msg.return_path_empty
    assert msg.body_text.strip() == "Hello"
    assert RESDESK_CASE_HEADER == "X-Resdesk-Case"
    assert msg.defects == ()  # well-formed mail has nothing to forgive


@pytest.mark.parametrize(
    "header, present, empty",
    [(b"", False, False), (b"Return-Path: <>\r\n", True, True), (b"Return-Path: < >\r\n", True, True),
     (b"Return-Path: <bounce@x.example>\r\n", True, False)],
)
def test_return_path_presence_and_emptiness_are_told_apart(header, present, empty):
    """GIVEN a message with no, an empty or a real Return-Path
    WHEN it is parsed
    THEN presence and emptiness are reported separately."""
    msg = parse_message(header + b"From: a@b.example\r\nSubject: x\r\n\r\nbody\r\n")
    assert msg.return_path_present is present
    assert msg.return_path_empty is empty


def test_eight_bit_junk_in_headers_is_read_and_recorded():
    """GIVEN raw UTF-8 in one header (allowed by RFC 6532) and Latin-1 bytes in another
    WHEN it is parsed
    THEN both are decoded sensibly and only the non-UTF-8 one is noted, as a harmless flaw."""
    raw = (
        b"From: J\xc3\xb6rg M\xc3\xbcller <jorg@police.example>\r\n"
        b"Subject: Caf\xe9 \xff meeting\r\n\r\nbody\r\n"
    )
    msg = parse_message(raw)
    assert msg.sender is not None and msg.sender.name == "Jörg Müller"
    assert msg.subject == "Café ÿ meeting"
    assert msg.defects == () and msg.flaws == ("8-bit characters in the Subject header are not UTF-8; read as Windows-1252",)


@pytest.mark.parametrize(
    "header, expected",
    [
        (b"jane@agency.example <evil@x.example>", ("jane@agency.example", "evil@x.example")),
        (b"Jane, Smith <jane@agency.example>", ("Smith", "jane@agency.example")),
        (b"<<<@@@>>>", None),
    ],
)
def test_malformed_from_is_read_as_mail_programs_show_it(header, expected):
    """GIVEN a From header that breaks RFC 5322 syntax
    WHEN it is parsed
    THEN the last angle address is the sender (never the display name), the header is noted
    as malformed, and a header with no usable address gives no sender."""
    msg = parse_message(b"From: " + header + b"\r\nSubject: x\r\n\r\nbody\r\n")
    assert (None if msg.sender is None else (msg.sender.name, msg.sender.address)) == expected
    assert "malformed From header; read loosely" in msg.defects


def test_message_id_without_brackets_is_kept_in_bracket_form():
    """GIVEN a mailer that writes Message-ID and In-Reply-To without angle brackets
    WHEN it is parsed
    THEN the ids are given in the usual <id@host> form."""
    msg = parse_message(b"From: a@b.example\r\nMessage-ID: abc@host.example\r\nIn-Reply-To: x@y.example\r\n\r\nhi\r\n")
    assert msg.message_id == "<abc@host.example>"
    assert msg.in_reply_to == ("<x@y.example>",)


def test_garbage_address_headers_do_not_raise():
    """GIVEN From and To headers that are not addresses at all
    WHEN the message is parsed
    THEN it reads what it can (nothing here) rather than failing."""
    msg = parse_message(b"From: <<<@@@>>>\r\nTo: ;;;,,,\r\nSubject: x\r\n\r\nbody\r\n")
    assert msg.sender is None or "@" in msg.sender.address
    assert msg.subject == "x"


# --- bodies --------------------------------------------------------------------------------


def test_unknown_charset_body_is_read_as_utf8_with_a_defect():
    """GIVEN a text part labelled with a charset that does not exist
    WHEN it is parsed
    THEN the body is still readable and the unknown charset is a defect."""
    raw = b"From: a@b.example\r\nSubject: x\r\nContent-Type: text/plain; charset=x-no-such-thing\r\n\r\nStage 2 caf\xc3\xa9\r\n"
    msg = parse_message(raw)
    assert msg.body_text.strip() == "Stage 2 café"
    assert any("x-no-such-thing" in d for d in msg.flaws) and msg.defects == ()


def test_html_only_body_becomes_text():
    """GIVEN a message whose only body is HTML with a script, a style and a table
    WHEN it is parsed
    THEN the body is the visible text, blocks on their own lines, cells side by side."""
    html = (
        "<html><head><style>p{color:red}</style><title>t</title></head><body>"
        "<p>Outcome: escalated</p><script>alert(1)</script>"
        "<table><tr><td>Name of Child</td><td>A&nbsp;Child &amp; sibling</td></tr></table></body></html>"
    )
    mail = EmailMessage()
    mail["From"] = "a@b.example"
    mail["Subject"] = "x"
    mail.set_content(html, subtype="html")
    msg = parse_message(mail.as_bytes())
    assert [line.split() for line in msg.body_text.splitlines() if line] == [
        ["Outcome:", "escalated"], ["Name", "of", "Child", "A", "Child", "&", "sibling"],
    ]
    assert "alert" not in msg.body_text and "color" not in msg.body_text


def test_plain_text_is_preferred_over_html_in_alternatives():
    """GIVEN multipart/alternative with text and HTML
    WHEN it is parsed
    THEN the text part is the body and the HTML is not listed as an attachment."""
    mail = EmailMessage()
    mail["From"] = "a@b.example"
    mail["Subject"] = "x"
    mail.set_content("plain words\n")
    mail.add_alternative("<p>html words</p>", subtype="html")
    msg = parse_message(mail.as_bytes())
    assert msg.body_text == "plain words\n"
    assert msg.attachments == ()


def test_bad_boundary_is_recorded_and_the_text_still_read():
    """GIVEN a multipart message whose parts use a boundary other than the declared one
    WHEN it is parsed
    THEN it does not raise, the defect is listed, and the text is still available."""
    raw = (
        b"From: a@b.example\r\nSubject: Escalation & Resolution Protocol: Stage 1 Summary\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"declared\"\r\n\r\n"
        b"--other\r\nContent-Type: text/plain\r\n\r\nOutcome: resolved\r\n--other--\r\n"
    )
    msg = parse_message(raw)
    assert msg.defects, "a missing boundary must be recorded"
    assert any("Boundary" in d for d in msg.defects)
    assert msg.subject.endswith("Stage 1 Summary")


def test_missing_boundary_parameter_is_recorded():
    """GIVEN multipart/mixed without a boundary parameter
    WHEN it is parsed
    THEN it does not raise and a defect says so."""
    raw = b"From: a@b.example\r\nSubject: x\r\nContent-Type: multipart/mixed\r\n\r\nOutcome: resolved\r\n"
    msg = parse_message(raw)
    assert any("Boundary" in d for d in msg.defects)
    assert "Outcome: resolved" in msg.body_text


def test_delivery_report_content_type_is_exposed():
    """GIVEN a multipart/report bounce
    WHEN it is parsed
    THEN it is recognised as a delivery report."""
    raw = (
        b"From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"R\"\r\n\r\n"
        b"--R\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n"
        b"--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
        b"Final-Recipient: rfc822; x@y.example\r\nAction: failed\r\nStatus: 5.1.1\r\n--R--\r\n"
    )
    msg = parse_message(raw)
    assert msg.content_type == "multipart/report"
    assert msg.is_delivery_report
    assert "Could not deliver." in msg.body_text


# --- attachments ---------------------------------------------------------------------------


def test_attachments_keep_name_type_and_exact_bytes():
    """GIVEN a message with a Word file (RFC 2231 encoded name) and an attached message
    WHEN it is parsed
    THEN each attachment has its decoded name, its type and its exact bytes."""
    docx = b"PK\x03\x04" + bytes(range(256)) * 4
    mail = EmailMessage()
    mail["From"] = "a@b.example"
    mail["Subject"] = "Resolution Notice"
    mail.set_content("See attached.\n")
    mail.add_attachment(
        docx, maintype="application",
        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename="Résolution notice – child A.docx",
    )
    inner = EmailMessage()
    inner["Subject"] = "original"
    inner.set_content("the forwarded text\n")
    mail.add_attachment(inner)
    msg = parse_message(mail.as_bytes())
    assert msg.body_text == "See attached.\n"
    first, second = msg.attachments
    assert first == Attachment(
        "Résolution notice – child A.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        docx,
    )
    assert second.content_type == "message/rfc822"
    assert b"the forwarded text" in second.data
    assert msg.defects == ()


@pytest.mark.parametrize(
    "name, expected",
    [
        ("one-file.tnef", [("AUTHORS", 244)]),
        ("two-files.tnef", [("AUTHORS", 244), ("README", 893)]),
        ("long-filename.tnef", [("allproductsmar2000.dat", 279)]),
        ("umlaut.tnef", [("TBZ PARIV GmbH.jpg", 44764), ("image003.jpg", 1001), ("UmlautAnhang-äüö.txt", 14)]),
        ("minimal_attachment.tnef", [("attachment-1", 16)]),
        ("body.tnef", []),
        ("rtf.tnef", []),
        ("garbage-at-end.tnef", []),
    ],
)
def test_files_inside_winmail_dat_are_attachments(name, expected):
    """GIVEN a winmail.dat made by Outlook/Exchange (real files from the corpus)
    WHEN the carrying message is parsed
    THEN the winmail.dat is kept and every file inside it is listed after it, with no defect."""
    msg = parse_message(_with_winmail((TNEF / name).read_bytes()))
    assert msg.attachments[0].filename == "winmail.dat"
    inner = [(a.filename, len(a.data)) for a in msg.attachments[1:]]
    assert inner == expected
    assert all(a.inside == "winmail.dat" for a in msg.attachments[1:])
    assert not [d for d in msg.defects if "winmail" in d]


def test_winmail_file_contents_and_types_are_exact():
    """GIVEN the two-files winmail.dat
    WHEN it is read
    THEN the README inside has its real text, and names without an extension get a generic type."""
    msg = parse_message(_with_winmail((TNEF / "two-files.tnef").read_bytes()))
    readme = next(a for a in msg.attachments if a.filename == "README")
    assert b"TNEF is a program for unpacking" in readme.data  # the tnef tool's own README
    assert readme.content_type == "application/octet-stream"
    umlaut = parse_message(_with_winmail((TNEF / "umlaut.tnef").read_bytes()))
    assert [a.content_type for a in umlaut.attachments[1:]] == ["image/jpeg", "image/jpeg", "text/plain"]
    assert umlaut.attachments[1].data.startswith(b"\xff\xd8")  # a JPEG starts with SOI


def test_winmail_html_body_is_used_when_the_mail_has_no_text():
    """GIVEN a winmail.dat that carries the message body as HTML and an empty text part
    WHEN the message is parsed
    THEN the body text is taken from the winmail.dat."""
    msg = parse_message(_with_winmail((TNEF / "body.tnef").read_bytes(), body=b""))
    assert msg.body_text.strip()
    assert "<" not in msg.body_text


def _patch_first_attachment_property_count(data: bytes, count: int) -> bytes:
    """Set the property count of the first attachment MAPI block (object 0x9005)."""
    offset = 6
    while offset + 12 < len(data):
        name = struct.unpack_from("<H", data, offset + 1)[0]
        length = struct.unpack_from("<I", data, offset + 5)[0]
        if name == 0x9005:
            patched = bytearray(data)
            struct.pack_into("<I", patched, offset + 9, count)
            return bytes(patched)
        offset += length + 11
    raise AssertionError("no attachment block found")


@pytest.mark.parametrize(
    "make_broken, reason",
    [
        (lambda d: d[: len(d) // 2], "cut short"),
        (lambda d: b"\x00\x00\x00\x00" + d[4:], "TNEF signature"),
        (lambda d: b"", "TNEF signature"),
        (lambda d: _patch_first_attachment_property_count(d, 0xFFFFFFFF), "4294967295 properties"),
        (lambda d: _patch_first_attachment_property_count(d, 0x00FFFFFF), "properties declared"),
    ],
    ids=["truncated", "wrong-signature", "empty", "absurd-property-count", "large-property-count"],
)
def test_broken_winmail_dat_gives_a_reason_not_a_crash(make_broken, reason):
    """GIVEN a winmail.dat that is truncated, mislabelled or declares impossible counts
    WHEN it is read directly and inside a message
    THEN reading it raises WinmailError with the reason, and parsing the message keeps the
    raw winmail.dat and records that reason as a defect (and does not hang)."""
    broken = make_broken((TNEF / "long-filename.tnef").read_bytes())
    with pytest.raises(WinmailError) as caught:
        read_winmail(broken)
    assert reason in str(caught.value)
    assert isinstance(caught.value, IntakeError)
    msg = parse_message(_with_winmail(broken))
    assert [a.filename for a in msg.attachments] == ["winmail.dat"]
    assert msg.attachments[0].data == broken
    assert any(reason in d and "winmail.dat" in d for d in msg.defects)
    assert msg.body_text.strip() == "Please see the attached notice."


@settings(max_examples=150, deadline=None)
@given(
    source=st.sampled_from(["one-file.tnef", "two-files.tnef", "long-filename.tnef", "umlaut.tnef"]),
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), max_size=8),
    cut=st.none() | st.integers(min_value=0),
)
def test_corrupted_winmail_dat_either_reads_or_raises_winmail_error(source, edits, cut):
    """GIVEN a real winmail.dat with random bytes changed and possibly cut short
    WHEN it is read
    THEN the result is files or a WinmailError, never another exception or a hang."""
    data = bytearray((TNEF / source).read_bytes())
    for position, value in edits:
        data[position % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    try:
        content = read_winmail(bytes(data))
    except WinmailError as exc:
        assert exc.reason
    else:
        assert all(isinstance(f.data, bytes) and f.filename for f in content.files)


# --- unreadable messages -------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, reason",
    [(b"", "empty"), (b"  \r\n\r\n ", "empty"), (b"\r\n\r\njust a body with no headers", "no headers")],
)
def test_truly_unreadable_messages_raise_a_clear_intake_error(raw, reason):
    """GIVEN bytes with nothing to read in them
    WHEN they are parsed
    THEN UnreadableMessage (an IntakeError) says why."""
    with pytest.raises(UnreadableMessage) as caught:
        parse_message(raw)
    assert reason in str(caught.value)
    assert isinstance(caught.value, IntakeError)


def test_messages_over_the_size_limit_are_refused_unread():
    """GIVEN a limit of 1000 bytes and a 2000-byte message
    WHEN it is parsed with that limit
    THEN it is refused with the sizes in the reason."""
    raw = b"From: a@b.example\r\nSubject: x\r\n\r\n" + b"y" * 2000
    with pytest.raises(UnreadableMessage, match="larger than the limit of 1000"):
        parse_message(raw, max_bytes=1000)
    assert parse_message(raw, max_bytes=len(raw)).subject == "x"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_parse_or_raise_unreadable_message(raw):
    """GIVEN arbitrary bytes
    WHEN they are parsed
    THEN the result is a message or UnreadableMessage, never another exception."""
    try:
        msg = parse_message(raw)
    except UnreadableMessage:
        return
    assert "\n" not in msg.subject and "\r" not in msg.subject


_HEADER_NAMES = st.sampled_from(
    ["From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References", "Return-Path",
     "Content-Type", "Auto-Submitted", "Content-Transfer-Encoding", "Authentication-Results"]
)


@settings(max_examples=300, deadline=None)
@given(
    headers=st.lists(st.tuples(_HEADER_NAMES, st.binary(max_size=80).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" "))), min_size=1, max_size=10),
    body=st.binary(max_size=300),
)
def test_messages_with_hostile_headers_always_parse(headers, body):
    """GIVEN a message whose known headers hold arbitrary bytes
    WHEN it is parsed
    THEN it parses (it has headers), and every exposed header text is a single safe line."""
    raw = b"".join(name.encode() + b": " + value + b"\r\n" for name, value in headers) + b"\r\n" + body
    msg = parse_message(raw)
    texts = [msg.subject, msg.message_id or "", *msg.in_reply_to, *msg.references, msg.return_path or ""]
    texts += [a.address + a.name for a in (*msg.to, *msg.cc)] + ([msg.sender.address] if msg.sender else [])
    assert all(t == safe_header_text(t) for t in texts)


# --- header safety -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("Stage 2\r\nBcc: evil@x.example", "Stage 2 Bcc: evil@x.example"),
        ("a\nb\rc", "a b c"),
        ("tab\tand   spaces  ", "tab and spaces"),
        ("nul\x00del\x7fesc\x1b", "nul del esc"),
        ("nel\x85ls\u2028ps\u2029", "nel ls ps"),
        ("bidi\u202eoverride", "bidi override"),
        ("bad \udce9 surrogate", "bad surrogate"),
        ("Jörg – Résolution", "Jörg – Résolution"),
        ("   ", ""),
    ],
)
def test_safe_header_text_strips_controls_and_folds_whitespace(value, expected):
    """GIVEN header text containing line breaks, controls or odd spacing
    WHEN it is made safe
    THEN it is one line of visible text with single spaces."""
    assert safe_header_text(value) == expected


@given(st.text())
def test_safe_header_text_is_one_clean_line_and_idempotent(value):
    """GIVEN any text
    WHEN it is made safe
    THEN it has no control or line-separator characters, and making it safe again changes nothing."""
    safe = safe_header_text(value)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029" for c in safe)
    assert safe == safe.strip() and "  " not in safe
    assert safe_header_text(safe) == safe


def test_encoded_newline_in_a_subject_cannot_inject_a_bcc_into_a_reply():
    """GIVEN a subject whose encoded word decodes to CR LF followed by "Bcc: evil@x.example"
    WHEN it is parsed and its subject copied into an outbound acknowledgement
    THEN the subject is one line and the outbound message has no Bcc header and one Subject."""
    raw = (
        b"From: a@school.example\r\n"
        b"Subject: =?utf-8?q?Escalation_&_Resolution_Protocol:_Stage_1_Summary=0D=0ABcc:_evil@x.example?=\r\n"
        b"\r\nbody\r\n"
    )
    msg = parse_message(raw)
    assert msg.subject == "Escalation & Resolution Protocol: Stage 1 Summary Bcc: evil@x.example"
    reply = EmailMessage(policy=policy.SMTP)
    reply["From"] = "escalations@partnership.example"
    reply["To"] = "a@school.example"
    reply["Subject"] = "Received: " + safe_header_text(msg.subject)
    sent = message_from_bytes(reply.as_bytes(), policy=policy.default)
    assert sent.get_all("Bcc") is None
    assert len(sent.get_all("Subject")) == 1
    assert "evil@x.example" in sent["Subject"]  # still visible as text, harmless


def test_attached_message_with_odd_headers_is_kept():
    """GIVEN a forwarded message attached whole, whose own headers hold 8-bit junk and a long
    unbreakable line
    WHEN the carrier is parsed
    THEN the attached message is kept with its text and odd header intact."""
    inner = b"From: x\xff@y.example\r\nSubject: caf\xe9 " + b"z" * 2000 + b"\r\n\r\ninner body text\r\n"
    raw = (
        b"From: a@b.example\r\nSubject: Fwd\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
        b"--B\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"--B--\r\n"
    )
    msg = parse_message(raw)
    (attached,) = msg.attachments
    assert attached.content_type == "message/rfc822"
    assert b"inner body text" in attached.data
    assert b"caf\xe9 " + b"z" * 2000 in attached.data


def _nested(depth: int) -> bytes:
    head = b"From: a@b.example\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
    opening = b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1) for i in range(depth))
    inner = b"--b%d\r\nContent-Type: text/plain\r\n\r\ninner text\r\n" % depth
    closing = b"".join(b"--b%d--\r\n" % i for i in range(depth, -1, -1))
    return head + opening + inner + closing


def test_deeply_nested_multiparts_are_cut_off_with_a_defect():
    """GIVEN multiparts nested 200 deep around one text part
    WHEN the message is parsed
    THEN it is read, the text is found, and the cut-off below 50 levels is a defect."""
    msg = parse_message(_nested(200))
    assert msg.body_text.strip() == "inner text"
    assert "MIME parts nested more than 50 deep; the rest is ignored" in msg.defects


def test_absurdly_nested_multiparts_are_unreadable_not_a_crash():
    """GIVEN multiparts nested 3000 deep (more than the parser can follow)
    WHEN the message is parsed
    THEN it is refused as unreadable with the parser's reason."""
    with pytest.raises(UnreadableMessage, match="the parser failed"):
        parse_message(_nested(3000))
