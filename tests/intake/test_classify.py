"""Classification: every subject a person would type, automatic mail, templates and replies."""

from __future__ import annotations

from email.header import Header
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resdesk.intake.classify import (
    Classification,
    classify,
    is_stage3_notification,
    normalise_subject,
    strip_reply_prefixes,
    summary_stage,
)
from resdesk.intake.message import InboundMessage, parse_message
from tests.intake.tnef_stream import tnef as tnef_stream

OURS = {"escalations@partnership.example"}


def _mail(subject: str = "Hello", *, headers: dict[str, str] | None = None, body: str = "Hi.\n",
          sender: str = "Jo Bloggs <jo@school.example>", attachments: list[tuple[str, str, bytes]] = ()) -> InboundMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "Business Unit <inbox@partnership.example>"
    mail["Subject"] = subject
    mail["Message-ID"] = "<m1@school.example>"
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return parse_message(mail.as_bytes())


def _encoded(text: str, charset: str = "utf-8") -> str:
    return Header(text, charset).encode()


SUMMARY, NOTIFY, NOT = "stage-summary", "stage-3-notification", "not-protocol"

SUBJECTS = [
    # the seed's own subject lines (Oldham 2025, stage table and Appendix 1)
    ("Escalation & Resolution Protocol: Stage 1 Summary", SUMMARY, 1),
    ("Escalation & Resolution Protocol: Stage 2 Summary", SUMMARY, 2),
    ("Escalation & Resolution Protocol: Stage 3 Summary", SUMMARY, 3),
    ("Escalation and Resolution Protocol: Stage 1 Summary", SUMMARY, 1),
    ("Escalation and Resolution Protocol: Stage 2 Summary", SUMMARY, 2),
    # reply and forward prefixes, repeated, any case, in several languages
    ("RE: Escalation & Resolution Protocol: Stage 2 Summary", SUMMARY, 2),
    ("Re: Re: RE: Escalation & Resolution Protocol: Stage 2 Summary", SUMMARY, 2),
    ("FW: Escalation & Resolution Protocol: Stage 1 Summary", SUMMARY, 1),
    ("Fwd: Escalation & Resolution Protocol: Stage 3 Summary", SUMMARY, 3),
    ("fwd: re: escalation & resolution protocol: stage 3 summary", SUMMARY, 3),
    ("AW: Escalation & Resolution Protocol: Stage 2 Summary", SUMMARY, 2),
    ("WG: AW: Escalation & Resolution Protocol: Stage 2 Summary", SUMMARY, 2),
    ("SV: Escalation & Resolution Protocol: Stage 1 Summary", SUMMARY, 1),
    ("Antw: Escalation & Resolution Protocol: Stage 1 Summary", SUMMARY, 1),
    ("RE[2]: Escalation & Resolution Protocol: Stage 2 Summary", SUMMARY, 2),
    ("Re : Escalation & Resolution Protocol: Stage 2 Summary", SUMMARY, 2),
    ("[EXTERNAL] RE: Escalation & Resolution Protocol: Stage 2 Summary", SUMMARY, 2),
    ("RE: [SECURE] FW: Escalation & Resolution Protocol: Stage 2 Summary", SUMMARY, 2),
    ("*EXTERNAL* Escalation & Resolution Protocol: Stage 1 Summary", SUMMARY, 1),
    # "&", "and", "+", spacing and punctuation
    ("Escalation + Resolution Protocol: Stage 2 Summary", SUMMARY, 2),
    ("Escalation &amp; Resolution Protocol - Stage 2 Summary", NOT, None),
    ("Escalation&Resolution Protocol: Stage 2 Summary", SUMMARY, 2),
    ("Escalation & Resolution Protocol – Stage 2 – Summary", SUMMARY, 2),
    ("Escalation & Resolution Protocol:Stage 2 Summary", SUMMARY, 2),
    ("ESCALATION & RESOLUTION PROTOCOL: STAGE 2 SUMMARY", SUMMARY, 2),
    ("escalation and resolution protocol stage 2 summary", SUMMARY, 2),
    ("Escalation & Resolution: Stage 2 Summary", SUMMARY, 2),
    ("Escalation to Resolution process: Stage 2 summary", SUMMARY, 2),
    # numbers as words, ordinals and Roman numerals
    ("Escalation & Resolution Protocol: Stage Two Summary", SUMMARY, 2),
    ("Escalation & Resolution Protocol: Stage one summary", SUMMARY, 1),
    ("Escalation & Resolution Protocol: Stage THREE Summary", SUMMARY, 3),
    ("Escalation & Resolution Protocol: Stage II Summary", SUMMARY, 2),
    ("Escalation & Resolution Protocol: Stage IV Summary", SUMMARY, 4),
    ("Escalation & Resolution Protocol: 2nd stage summary", SUMMARY, 2),
    ("Escalation & Resolution Protocol: second stage summary", SUMMARY, 2),
    ("Escalation & Resolution Protocol: Summary of Stage 3", SUMMARY, 3),
    ("Escalation & Resolution Protocol: Stage 0 Summary", SUMMARY, 0),
    # extra words around it
    ("Escalation & Resolution Protocol: Stage 2 Summary - Child A (DOB 03/04/2015)", SUMMARY, 2),
    ("URGENT Escalation & Resolution Protocol: Stage 2 Summary re Child A", SUMMARY, 2),
    ("Child A - Escalation and Resolution Protocol Stage 1 summary from health visiting", SUMMARY, 1),
    ("Escalation & Resolution Protocol: Stage 2 meeting summary", SUMMARY, 2),
    ("Escalation & Resolution Protocol: Stage 2 Summary (completed template attached)", SUMMARY, 2),
    ("Escalation & Resolution Protocol: Stage 2 Summary [OLD-2026-0007]", SUMMARY, 2),
    ("[OLD-2026-0007] Stage 2 summary", SUMMARY, 2),
    ("RE: Stage 3 Summary OLD-2026-0007", SUMMARY, 3),
    # Oldham's notification of escalation progressing to stage 3
    ("Notification of Escalation progressing to stage 3", NOTIFY, 3),
    ("Notification of escalation progressing to Stage 3", NOTIFY, 3),
    ("RE: Notification of Escalation progressing to stage 3", NOTIFY, 3),
    ("FW: notification of escalation progressing to stage three", NOTIFY, 3),
    ("NOTIFICATION OF ESCALATION PROGRESSING TO STAGE III", NOTIFY, 3),
    ("Notification of Escalation progressing to stage 3 - Child A", NOTIFY, 3),
    ("Notification of escalation progressed to stage 3", NOTIFY, 3),
    # near misses: mentioning the protocol, the word "summary", or a stage is not enough
    ("Training dates for the Escalation & Resolution Protocol", NOT, None),
    ("training dates for the Escalation & Resolution Protocol: Stage 2 summary session", NOT, None),
    ("Stage 2 summary of the budget", NOT, None),
    ("Stage 2 Summary", NOT, None),
    ("Summary of stage 2 building works", NOT, None),
    ("Escalation & Resolution Protocol", NOT, None),
    ("Escalation & Resolution Protocol: revised version for consultation", NOT, None),
    ("Escalation & Resolution Protocol: Stage 2", NOT, None),
    ("Escalation & Resolution Protocol webinar: stage 2 summary explained", NOT, None),
    ("Escalation & Resolution Protocol guidance: how to write a stage 2 summary", NOT, None),
    ("Invitation: Escalation & Resolution Protocol Stage 1 summary workshop", NOT, None),
    ("Resolution of the stage 2 summary printing issue", NOT, None),
    ("Notification of escalation progressing to stage 2", NOT, None),
    ("Notification of escalation progressing to stage 4", NOT, None),
    ("Notification of change of address", NOT, None),
    ("Stage 3 notification", NOT, None),
    ("ERP go-live: stage 2 summary", NOT, None),
    ("Lunch on Friday?", NOT, None),
    ("", NOT, None),
    ("Escalation & Resolution Protocol: Stage 22x Summary", NOT, None),
    # the LSCP/LSAB process calls its stages steps; Sandwell's document is an "Escalation Policy"
    ("Escalation to Resolution Process: Step 3 Summary", SUMMARY, 3),
    ("RE: Escalation to Resolution - step two summary", SUMMARY, 2),
    ("SCSP Escalation Policy: Stage 2 Summary - T.Q.", SUMMARY, 2),
    ("Escalation policy review: step 2 summary of consultation responses", NOT, None),
]


def test_the_subject_table_is_large_and_balanced():
    """GIVEN the subject table
    WHEN it is counted
    THEN it has at least 60 subjects, with both positives and near-miss negatives."""
    assert len(SUBJECTS) >= 60
    assert sum(1 for _, kind, _ in SUBJECTS if kind == NOT) >= 15
    assert sum(1 for _, kind, _ in SUBJECTS if kind != NOT) >= 40


@pytest.mark.parametrize("subject, kind, stage", SUBJECTS, ids=[s[0][:60] or "empty" for s in SUBJECTS])
def test_subjects_are_classified(subject, kind, stage):
    """GIVEN a message from an agency with this subject (no thread headers, no attachment)
    WHEN it is classified
    THEN it is the expected kind, with the expected stage."""
    result = classify(_mail(subject), OURS)
    assert (result.kind, result.stage) == (kind if kind != NOT or "OLD-" not in subject else "reply", stage)


@pytest.mark.parametrize("subject, kind, stage", [s for s in SUBJECTS if s[0]], ids=[s[0][:60] for s in SUBJECTS if s[0]])
def test_subjects_survive_rfc2047_encoding(subject, kind, stage):
    """GIVEN the same subjects sent as RFC 2047 encoded words (base64, UTF-8) in a raw message
    WHEN parsed and classified
    THEN the result is the same as for the plain subject."""
    raw = (
        b"From: jo@school.example\r\nTo: inbox@partnership.example\r\n"
        b"Subject: " + _encoded(subject).encode("ascii") + b"\r\n\r\nHi.\r\n"
    )
    assert b"=?utf-8?" in raw
    msg = parse_message(raw)
    assert msg.subject == " ".join(subject.split())
    result = classify(msg, OURS)
    assert (result.kind, result.stage) == (kind if kind != NOT or "OLD-" not in subject else "reply", stage)


def test_latin1_quoted_printable_subject():
    """GIVEN a summary subject encoded as ISO-8859-1 quoted-printable with an accented name
    WHEN parsed and classified
    THEN it is the stage 1 summary."""
    raw = (
        b"From: jo@school.example\r\n"
        b"Subject: =?iso-8859-1?q?Escalation_&_Resolution_Protocol:_Stage_1_Summary_-_Ren=E9e?=\r\n\r\nx\r\n"
    )
    result = classify(parse_message(raw), OURS)
    assert (result.kind, result.stage) == (SUMMARY, 1)


def test_subject_helpers():
    """GIVEN subjects with prefixes and tags
    WHEN the helpers are applied
    THEN prefixes go, "&" reads as "and", and the stage and notification are found."""
    assert strip_reply_prefixes("RE: FW:  [EXT] AW: Hello: world") == "Hello: world"
    assert strip_reply_prefixes("Return of the thing") == "Return of the thing"
    assert normalise_subject("RE: Escalation & Resolution: Stage 2") == "escalation and resolution stage 2"
    assert summary_stage("Re: Escalation & Resolution Protocol: Stage Two Summary") == 2
    assert summary_stage("Stage 2 summary of the budget") is None
    assert is_stage3_notification("Fwd: Notification of escalation progressing to stage 3")
    assert not is_stage3_notification("Escalation & Resolution Protocol: Stage 3 Summary")


@given(st.text(max_size=200))
def test_classification_never_fails_on_any_subject(subject):
    """GIVEN any subject text
    WHEN summary and notification detection run on it
    THEN they return a stage number or None and a bool, never raise."""
    stage = summary_stage(subject)
    assert stage is None or 0 <= stage <= 99
    assert isinstance(is_stage3_notification(subject), bool)


# --- automatic mail ----------------------------------------------------------------------

SUMMARY_SUBJECT = "Escalation & Resolution Protocol: Stage 2 Summary"


@pytest.mark.parametrize(
    "headers, sender, subject, reason",
    [
        ({"Auto-Submitted": "auto-replied"}, None, SUMMARY_SUBJECT, "Auto-Submitted is auto-replied"),
        ({"Auto-Submitted": "auto-generated; owner-email=x@y.example"}, None, SUMMARY_SUBJECT, "auto-generated"),
        ({"Auto-Submitted": "Auto-Notified"}, None, SUMMARY_SUBJECT, "auto-notified"),
        ({"Precedence": "Junk"}, None, SUMMARY_SUBJECT, "Precedence is junk"),
        ({"Return-Path": "<>"}, None, SUMMARY_SUBJECT, "Return-Path is empty"),
        ({}, "MAILER-DAEMON@mx.school.example", SUMMARY_SUBJECT, "MAILER-DAEMON@mx.school.example"),
        ({}, "Mail System <postmaster@school.example>", SUMMARY_SUBJECT, "postmaster@school.example"),
        ({}, "Escalations <Escalations@Partnership.example>", SUMMARY_SUBJECT, "our own address"),
        ({"X-Resdesk-Case": "OLD-2026-0007"}, None, SUMMARY_SUBJECT, "X-Resdesk header"),
        ({"X-Resdesk-Notice": "acknowledgement"}, None, SUMMARY_SUBJECT, "X-Resdesk header"),
        ({}, None, "Automatic reply: " + SUMMARY_SUBJECT, "automatic reply"),
        ({}, None, "Out of Office: " + SUMMARY_SUBJECT, "automatic reply"),
        ({}, None, "Undeliverable: " + SUMMARY_SUBJECT, "bounce"),
        ({}, None, "Read: " + SUMMARY_SUBJECT, "automatic reply"),
        ({}, None, "Automatische Antwort: " + SUMMARY_SUBJECT, "automatic reply"),
    ],
)
def test_automatic_mail_is_never_taken_for_protocol_mail(headers, sender, subject, reason):
    """GIVEN a message whose subject is a stage summary but which is automatic mail
    WHEN it is classified
    THEN it is automatic, with the reason naming what gave it away."""
    msg = _mail(subject, headers=headers, sender=sender or "Jo <jo@school.example>")
    result = classify(msg, OURS)
    assert result.kind == "automatic"
    assert reason.lower() in result.reason.lower()
    assert not result.is_protocol_mail


@pytest.mark.parametrize("headers", [{"Auto-Submitted": "no"}, {"Auto-Submitted": "No"}, {"Precedence": "normal"},
                                     {"Return-Path": "<jo@school.example>"}])
def test_human_mail_with_harmless_headers_is_not_automatic(headers):
    """GIVEN a summary with Auto-Submitted: no, Precedence: normal or a real Return-Path
    WHEN it is classified
    THEN it is still the stage summary."""
    assert classify(_mail(SUMMARY_SUBJECT, headers=headers), OURS).kind == SUMMARY


def test_delivery_report_is_automatic():
    """GIVEN a multipart/report delivery status notification from an ordinary-looking sender
    WHEN it is classified
    THEN it is automatic because it is a delivery report."""
    raw = (
        b"From: mail-system@school.example\r\nSubject: " + SUMMARY_SUBJECT.encode() + b"\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=R\r\n\r\n"
        b"--R\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--R\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; a@b\r\nAction: failed\r\nStatus: 5.0.0\r\n--R--\r\n"
    )
    result = classify(parse_message(raw), OURS)
    assert result.kind == "automatic" and "delivery report" in result.reason


# --- templates and replies ---------------------------------------------------------------

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_a_filled_template_on_protocol_mail_is_recognised():
    """GIVEN a message with a Word attachment named as Oldham's Resolution Notice
    WHEN it is classified
    THEN it is a filled template and the file is named."""
    msg = _mail("Child A", attachments=[("Resolution Notice - Child A.docx", DOCX, b"PK\x03\x04 fake")])
    result = classify(msg, OURS)
    assert result.kind == "filled-template"
    assert result.templates == ("Resolution Notice - Child A.docx",)


def test_a_summary_with_a_template_stays_a_summary_and_lists_the_template():
    """GIVEN a stage 2 summary carrying a PDF
    WHEN it is classified
    THEN it is the stage 2 summary and the PDF is listed for the form readers."""
    msg = _mail(SUMMARY_SUBJECT, attachments=[("notes.pdf", "application/pdf", b"%PDF-1.4")])
    result = classify(msg, OURS)
    assert (result.kind, result.stage, result.templates) == (SUMMARY, 2, ("notes.pdf",))


def test_a_template_inside_winmail_dat_is_recognised():
    """GIVEN an Outlook message whose only attachment is a winmail.dat holding a Resolution Notice
    WHEN it is classified
    THEN it is a filled template, and the Word file inside is the template named."""
    tnef = tnef_stream([("Resolution Notice.docx", b"PK\x03\x04 fake"), ("logo.png", b"\x89PNG")])
    msg = _mail("Child A", attachments=[("winmail.dat", "application/ms-tnef", tnef)])
    assert [(a.filename, a.inside) for a in msg.attachments] == [
        ("winmail.dat", None), ("Resolution Notice.docx", "winmail.dat"), ("logo.png", "winmail.dat")]
    result = classify(msg, OURS)
    assert (result.kind, result.templates) == ("filled-template", ("Resolution Notice.docx",))


def test_winmail_dat_without_documents_is_not_a_template():
    """GIVEN a real Outlook winmail.dat (from the corpus) holding two text files, subject naming escalation
    WHEN it is classified
    THEN the files inside are considered and, none being a document, it is not a template."""
    tnef = (Path("/work/shared/corpus/tnef") / "two-files.tnef").read_bytes()
    msg = _mail("Escalation paperwork", attachments=[("winmail.dat", "application/ms-tnef", tnef)])
    assert [a.filename for a in msg.attachments] == ["winmail.dat", "AUTHORS", "README"]
    assert classify(msg, OURS).kind == NOT


def test_an_unrelated_pdf_is_not_a_template():
    """GIVEN a newsletter PDF with nothing about escalation in subject, name or body
    WHEN it is classified
    THEN it is not protocol mail."""
    msg = _mail("Autumn newsletter", attachments=[("newsletter.pdf", "application/pdf", b"%PDF-1.4")])
    assert classify(msg, OURS).kind == NOT


def test_form_labels_typed_into_the_body_make_a_filled_template():
    """GIVEN a body with the form's labels typed in as "Label: value" lines
    WHEN it is classified
    THEN it is a filled template read from the body."""
    body = "Name of Child/Young Person: A Child\nD.O.B: 03/04/2015\nUnique Identifier (NHS/PID Number): 943 476 5919\nOutcome: escalated\n"
    result = classify(_mail("Child A", body=body), OURS)
    assert result.kind == "filled-template" and "body" in result.reason


def test_reference_token_makes_a_reply():
    """GIVEN a subject that carries the case reference but is not a summary
    WHEN it is classified
    THEN it is a reply carrying that reference."""
    result = classify(_mail("RE: Acknowledgement [OLD-2026-0007] stage 2 recorded"), OURS)
    assert (result.kind, result.reference) == ("reply", "OLD-2026-0007")


def test_thread_headers_make_a_reply_and_plain_re_does_not():
    """GIVEN one message with In-Reply-To and one with only "Re:" in the subject
    WHEN they are classified
    THEN the first is a reply (correlation decides the case) and the second is not protocol mail."""
    threaded = _mail("Re: our call", headers={"In-Reply-To": "<ack-1@partnership.example>"})
    assert classify(threaded, OURS) == Classification("reply", "it answers an earlier message")
    assert classify(_mail("Re: our call"), OURS).kind == NOT


def test_automatic_wins_over_everything_else():
    """GIVEN an out-of-office reply that quotes a reference and carries a template
    WHEN it is classified
    THEN it is automatic: nothing automatic is ever answered."""
    msg = _mail(
        "Automatic reply: [OLD-2026-0007] Notification of Escalation progressing to stage 3",
        headers={"Auto-Submitted": "auto-replied"},
        attachments=[("Resolution Notice.docx", DOCX, b"PK")],
    )
    result = classify(msg, OURS)
    assert result.kind == "automatic"
    assert result.reference == "OLD-2026-0007"


_PREFIXES = st.sampled_from(["RE:", "Re:", "re :", "FW:", "Fwd:", "FWD:", "AW:", "WG:", "SV:", "Antw:", "RE[3]:",
                             "[EXTERNAL]", "[Secure]", "*EXTERNAL*"])


@given(prefixes=st.lists(_PREFIXES, max_size=6), stage=st.integers(0, 9),
       spelling=st.sampled_from(["Escalation & Resolution Protocol", "Escalation and Resolution Protocol",
                                 "ESCALATION + RESOLUTION PROTOCOL", "escalation & resolution"]),
       tail=st.sampled_from(["", " - Child A", " (DOB 03/04/2015)", " [OLD-2026-0007]"]))
def test_any_run_of_prefixes_keeps_the_stage(prefixes, stage, spelling, tail):
    """GIVEN a stage N summary subject behind any run of reply/forward prefixes and tags
    WHEN its stage is read
    THEN it is N, exactly as without the prefixes."""
    subject = " ".join([*prefixes, f"{spelling}: Stage {stage} Summary{tail}"])
    assert summary_stage(subject) == stage
