"""Outbound mail: threading, loop protection, no header injection, delivered to a real SMTP server."""

from __future__ import annotations

import email
import io
from datetime import datetime, timedelta
from email import policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from resdesk.outbox.compose import compose_acknowledgement, compose_notice, compose_reminder
from resdesk.render.examples import example_acknowledgement, example_notice, example_reminder
from resdesk.outbox.message import (
    OutboundMail,
    RecipientRateLimit,
    build_message,
    clean_header_text,
    envelope_recipients,
    is_automatic,
    message_id_for,
    parse_one_address,
    reply_subject,
)
from resdesk.outbox.smtp import SmtpSender, TemporarySendFailure, send_with_retry
from resdesk.errors import RenderError
from tests.render.tools import free_port, pdf_text, qpdf_check

SENDER = "Escalations <escalations@partnership.example>"
HOSTILE_SUBJECT = b"Subject: =?utf-8?q?Stage_2_Summary=0D=0ABcc:_evil@attacker.example?=\r\n"


def _deliver(server, mail):
    message, raw = build_message(mail)
    attempts = send_with_retry(
        SmtpSender(server.host, server.port, security="none"),
        raw,
        mail_from=parse_one_address(mail.sender).addr_spec,
        recipients=envelope_recipients(mail),
        message_id=message["Message-ID"],
        sleep=lambda seconds: None,
    )
    return message, attempts


def _parse(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def test_acknowledgement_reaches_the_sender_threaded_with_its_pdf(smtp_server, tmp_path):
    """GIVEN a recorded Oldham stage 2 summary WHEN its acknowledgement is sent over SMTP
    THEN one message reaches the practitioner, threaded onto theirs, marked auto-replied,
    carrying the case token and a valid PDF stating the due time."""
    mail = compose_acknowledgement(
        example_acknowledgement(),
        idempotency_key="ack:ledger:41",
        sender=SENDER,
        inbound_message_id="<stage2@nca.example>",
        inbound_references=["<stage1@nca.example>"],
    )
    sent, attempts = _deliver(smtp_server, mail)
    (received,) = smtp_server.wait_for(1)
    assert attempts == 1
    assert received.rcpt_tos == ("s.obriain@nca.example",)
    assert received.mail_from == "escalations@partnership.example"
    got = _parse(received.raw)
    assert got["Message-ID"] == sent["Message-ID"] == message_id_for("ack:ledger:41", "partnership.example")
    assert got["In-Reply-To"] == "<stage2@nca.example>"
    assert got["References"] == "<stage1@nca.example> <stage2@nca.example>"
    assert got["Auto-Submitted"] == "auto-replied"
    assert got["X-Auto-Response-Suppress"] == "All"
    assert got["Subject"] == "RE: Escalation & Resolution Protocol: Stage 2 Summary [OLD-2026-0007]"
    assert "Tuesday 29 December 2026 at 23:59" in got.get_body(("plain",)).get_content()
    (attachment,) = list(got.iter_attachments())
    pdf = attachment.get_content()
    qpdf_check(pdf, tmp_path)
    assert "Tuesday 29 December 2026 at 23:59" in pdf_text(pdf, tmp_path)


def test_notices_and_reminders_are_auto_generated_and_carry_their_documents(smtp_server):
    """GIVEN a stage 3 notification with its Word copy and an overdue alert WHEN sent
    THEN each is marked auto-generated and carries its attachments; the notice goes to the business unit."""
    notice = compose_notice(example_notice(), idempotency_key="notice:OLD-2026-0007:3:stage3", sender=SENDER,
                            with_word_copy=True)
    alert = compose_reminder(example_reminder(kind="overdue"), idempotency_key="overdue:OLD-2026-0007:3", sender=SENDER)
    _deliver(smtp_server, notice)
    _deliver(smtp_server, alert)
    first, second = smtp_server.wait_for(2)
    got_notice, got_alert = _parse(first.raw), _parse(second.raw)
    assert first.rcpt_tos == ("OSCP.group@oldham.gov.uk",)
    assert got_notice["Subject"] == "Notification of Escalation progressing to stage 3 [OLD-2026-0007]"
    assert got_notice["Auto-Submitted"] == got_alert["Auto-Submitted"] == "auto-generated"
    assert [a.get_filename() for a in got_notice.iter_attachments()] == [
        "stage3-notification-OLD-2026-0007.pdf",
        "stage3-notification-OLD-2026-0007.docx",
    ]
    assert got_alert["Subject"] == "Overdue: stage 3 [OLD-2026-0007]"
    assert got_alert["In-Reply-To"] is None


def test_same_idempotency_key_same_message_id_and_structure():
    """GIVEN the same notice built twice WHEN compared THEN Message-ID and MIME boundary match; another key differs."""
    first, _ = build_message(compose_reminder(example_reminder(), idempotency_key="r:1", sender=SENDER))
    again, _ = build_message(compose_reminder(example_reminder(), idempotency_key="r:1", sender=SENDER))
    other, _ = build_message(compose_reminder(example_reminder(), idempotency_key="r:2", sender=SENDER))
    assert first["Message-ID"] == again["Message-ID"] != other["Message-ID"]
    assert first.get_boundary() == again.get_boundary() != other.get_boundary()


def test_an_encoded_newline_and_bcc_in_an_inbound_subject_adds_no_recipient(smtp_server):
    """GIVEN an inbound subject whose encoded word hides CR LF 'Bcc: evil@attacker.example'
    WHEN the acknowledgement copies it and is sent THEN the subject stays one line of text,
    there is no Bcc header, and only the practitioner receives it."""
    inbound = _parse(b"From: s.obriain@nca.example\r\nMessage-ID: <i@nca.example>\r\n" + HOSTILE_SUBJECT + b"\r\nbody\r\n")
    assert "\n" in inbound["Subject"]  # the hostile line break survives decoding
    view = example_acknowledgement(received_subject=str(inbound["Subject"]))
    mail = compose_acknowledgement(view, idempotency_key="ack:hostile", sender=SENDER,
                                   inbound_message_id=inbound["Message-ID"])
    _deliver(smtp_server, mail)
    (received,) = smtp_server.wait_for(1)
    assert received.rcpt_tos == ("s.obriain@nca.example",)
    got = _parse(received.raw)
    assert got["Bcc"] is None and got["Cc"] is None
    assert got["Subject"] == "RE: Stage 2 Summary Bcc: evil@attacker.example [OLD-2026-0007]"
    headers = received.raw.split(b"\r\n\r\n", 1)[0]
    assert not any(line.lower().startswith(b"bcc:") for line in headers.split(b"\r\n"))


@pytest.mark.parametrize(
    "value",
    [
        "a@nca.example, evil@attacker.example",
        "Name\r\nBcc: evil@attacker.example <a@nca.example>",
        "a@nca.example\nBcc: evil@attacker.example",
        "Group: a@nca.example, b@nca.example;",
        "not an address",
        "<a@nca.example> <b@nca.example>",
    ],
)
def test_an_address_copied_from_mail_must_be_exactly_one_address(value):
    """GIVEN an address value that is a list, a group, garbage or carries a line break WHEN used THEN refused."""
    with pytest.raises(RenderError):
        parse_one_address(value)


def test_temporary_failures_are_retried_with_backoff(smtp_server):
    """GIVEN a server answering 451 twice WHEN a notice is sent THEN it is retried with doubling delays and
    delivered once on the third attempt."""
    smtp_server.fail_next(2)
    mail = compose_reminder(example_reminder(), idempotency_key="r:retry", sender=SENDER)
    message, raw = build_message(mail)
    delays: list[float] = []
    attempts = send_with_retry(
        SmtpSender(smtp_server.host, smtp_server.port, security="none"), raw,
        mail_from="escalations@partnership.example", recipients=envelope_recipients(mail),
        message_id=message["Message-ID"], first_delay=0.5, sleep=delays.append,
    )
    assert attempts == 3 and delays == [0.5, 1.0]
    assert smtp_server.refused == 2
    assert len(smtp_server.wait_for(1)) == 1


def test_retries_give_up_with_a_temporary_failure_when_nobody_answers():
    """GIVEN no SMTP server on the port WHEN sending THEN every attempt is tried and a temporary failure raised."""
    delays: list[float] = []
    with pytest.raises(TemporarySendFailure) as caught:
        send_with_retry(SmtpSender("127.0.0.1", free_port(), security="none", timeout=5), b"x",
                        mail_from="a@b.example", recipients=["c@d.example"], message_id="<m@b.example>",
                        attempts=3, sleep=delays.append)
    assert delays == [1.0, 2.0]
    assert caught.value.message_id == "<m@b.example>"


@pytest.mark.parametrize(
    ("headers", "automatic"),
    [
        ("Auto-Submitted: auto-replied", True),
        ("Auto-Submitted: no", False),
        ("X-Auto-Response-Suppress: All", True),
        ("Precedence: bulk", True),
        ("List-Id: <list.example>", True),
        ("Return-Path: <>", True),
        ("X-Resdesk-Case: OLD-2026-0007", True),
        ("Content-Type: multipart/report; report-type=delivery-status; boundary=x", True),
        ("Return-Path: <a@nca.example>", False),
    ],
)
def test_automatic_mail_is_recognised(headers, automatic):
    """GIVEN an inbound message with these headers WHEN checked THEN it is automatic exactly when it should be."""
    raw = f"From: a@nca.example\r\nSubject: Stage 2 Summary\r\n{headers}\r\n\r\nbody\r\n".encode()
    assert is_automatic(_parse(raw)) is automatic


def test_a_recipient_gets_at_most_the_hourly_limit():
    """GIVEN a limit of 2 an hour WHEN 3 messages go to one recipient in an hour THEN the third waits;
    another recipient is unaffected, and an hour later the first may receive again."""
    limit, now = RecipientRateLimit(2), datetime(2026, 12, 23, 10)
    assert [limit.allow("A@x.example", now + timedelta(minutes=m)) for m in (0, 1, 2)] == [True, True, False]
    assert limit.allow("b@x.example", now)
    assert limit.allow("a@x.example", now + timedelta(minutes=61))


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=120))
def test_no_subject_can_add_a_header(subject):
    """GIVEN any subject text WHEN a reply is built THEN the message has exactly the headers the product sets."""
    text = clean_header_text(subject)
    assert "\r" not in text and "\n" not in text
    mail = OutboundMail(
        kind="reminder", idempotency_key="p", sender=SENDER, recipients=["a@nca.example"],
        subject=reply_subject(subject, "OLD-2026-0007"), case_ref="OLD-2026-0007", body_text="Reminder.",
        sent_at=datetime(2026, 12, 29, 9),
    )
    _, raw = build_message(mail)
    got = _parse(raw)
    assert set(got.keys()) == {
        "From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "X-Auto-Response-Suppress",
        "X-Resdesk-Case", "X-Resdesk-Notice", "Content-Type", "Content-Transfer-Encoding", "MIME-Version",
    }
    assert got["Subject"].endswith("[OLD-2026-0007]")
