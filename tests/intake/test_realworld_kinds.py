"""Each kind of real-world mail that used to go wrong (issue: real-world mail and forms), with an
input of its own (tests/intake/realworld/kinds/ or built below), through the real watcher on a
Maildir and the outbox's pickup folder."""

from __future__ import annotations

import io
from datetime import datetime, timezone
import zipfile
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from compressed_rtf import compress
from pypdf import PdfWriter

from resdesk.errors import FormError
from resdesk.forms import read_form
from tests.intake.compound_file import compound_file, outlook_msg
from tests.intake.realworld_desk import BUSINESS_UNIT, REALWORLD, RealDesk
from tests.intake.tnef_stream import mail_with_only_winmail, tnef

KINDS = "kinds"
ONOFF_DOCX = (REALWORLD / "f01-checkbox-onoff-words/escalation-onoff.docx").read_bytes()


@pytest.fixture
def desk(tmp_path) -> RealDesk:
    return RealDesk(tmp_path)


def recorded(desk: RealDesk) -> list[dict]:
    return [event["detail"] for event in desk.events("message-recorded")]


def mail_carrying(*parts, sender: str, subject: str, text: str, message_id: str,
                  date: str = "Thu, 26 Nov 2026 10:00:00 +0000") -> bytes:
    """A mail to the business unit with ``text`` for its body and ``parts`` attached."""
    mail = MIMEMultipart()
    mail["From"] = sender
    mail["To"] = BUSINESS_UNIT
    mail["Subject"] = subject
    mail["Date"] = date
    mail["Message-ID"] = message_id
    mail.attach(MIMEText(text))
    for part in parts:
        mail.attach(part)
    return mail.as_bytes()


def summary_with(*attachments: MIMEApplication, n: int | str, text: str | None = None) -> bytes:
    """A stage 1 summary, outcome escalated, carrying ``attachments``."""
    return mail_carrying(
        *attachments, sender="Sam Patel <sam.patel@police.example>", message_id=f"<kind-{n}@police.example>",
        subject="Escalation & Resolution Protocol: Stage 1 Summary",
        text=text or "Stage 1 call about I.J.\n\nOutcome: Escalated to stage 2\n",
    )


def template_mail(part: MIMEApplication, n: str) -> bytes:
    """A health professional's mail carrying a filled escalation template as ``part``."""
    return mail_carrying(
        part, sender="Helen Osei <helen.osei@healthtrust.example>", message_id=f"<kind-{n}@healthtrust.example>",
        subject="Multi-agency escalation of a safeguarding concern", date="Thu, 26 Nov 2026 11:00:00 +0000",
        text="Please find the escalation template attached.\n",
    )


def docx_with(replacements: dict[bytes, bytes], extra: dict[str, bytes] | None = None) -> bytes:
    """The on/off template with its document.xml edited (and ``extra`` entries added)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(ONOFF_DOCX)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/document.xml":
                for old, new in replacements.items():
                    data = data.replace(old, new)
            target.writestr(item, data)
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return out.getvalue()


# 2 ------------------------------------------------------------------------------------------------

def test_a_named_forwarded_message_is_read_like_the_mail_it_carries(desk):
    """GIVEN a forward whose message/rfc822 part has a file name and an HTML-only body, the outer mail
    saying nothing of its own WHEN drained THEN the attached stage 1 summary is recorded, resolved,
    from its own sender."""
    desk.deliver(f"{KINDS}/k02-forward-named.eml")
    desk.watch()
    (detail,) = recorded(desk)
    assert (detail["stage"], detail["outcome"], detail["sender"]) == (1, "resolved", "priya.nair@hospital.example")


def _forwarding(msg: bytes, filename: str | None, *, n: int) -> bytes:
    """An outer mail from a colleague carrying ``msg`` as an Outlook ``.msg`` attachment."""
    part = MIMEApplication(msg, "vnd.ms-outlook")
    if filename:
        part.add_header("Content-Disposition", "attachment", filename=filename)
    return mail_carrying(
        part, sender="Imran Qureshi <imran.qureshi@oldham.example>", message_id=f"<kind-2-msg-{n}@oldham.example>",
        subject="FW: for the record", date="Tue, 24 Nov 2026 11:00:00 +0000", text="See attached, from the hospital.\n",
    )


@pytest.mark.parametrize("wide, filename", [(True, "Stage 1 Summary.msg"), (False, "summary.msg"), (True, None)])
def test_an_attached_outlook_msg_is_read_like_the_mail_it_carries(desk, wide, filename):
    """GIVEN a forward carrying an Outlook .msg (Unicode or 8-bit string properties, named or not) whose
    message is a stage 1 summary, escalated, from the police, sent on Tuesday 24 November at 09:30,
    with the escalation template attached WHEN drained THEN the summary is recorded from its own
    sender and date, the case opened at stage 2, and the template in it read."""
    msg = outlook_msg(
        subject="Escalation & Resolution Protocol: Stage 1 Summary",
        body="Stage 1 call about K.R.\n\nOutcome: Escalated to stage 2\n",
        sender="sam.patel@police.example", sender_name="Sam Patel", to="imran.qureshi@oldham.example",
        sent=datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc), files={"escalation.docx": ONOFF_DOCX}, wide=wide,
    )
    desk.deliver(_forwarding(msg, filename, n=int(wide)))
    desk.watch()
    (detail,) = recorded(desk)
    assert (detail["stage"], detail["outcome"], detail["sender"]) == (1, "escalated", "sam.patel@police.example")
    assert [(c["stage"], c["status"]) for c in desk.cases()] == [(2, "open")]
    assert desk.cases()[0]["opened_at"].replace(tzinfo=None) == datetime(2026, 11, 24, 9, 30)  # not the 11:00 forward
    (form,) = desk.events("form-read")
    assert form["detail"]["fields"]["current_level_of_need"] == "early-help"


RICH_TEXT_SUMMARY = compress(
    rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fswiss\fcharset0 Arial;}}\f0\fs20 "
    rb"Stage 1 call about N.P.\par\par Outcome: \b resolved\b0\par\par Sam Patel\par}"
)


def test_a_summary_from_outlook_in_rich_text_mode_is_read_from_its_rtf_body(desk):
    """GIVEN a stage 1 summary, resolved, sent by Outlook in Rich Text mode: the mail has no text
    part, only a winmail.dat whose one body is compressed RTF WHEN drained THEN the summary is
    recorded, resolved, from its sender, with nothing noted against it."""
    desk.deliver(mail_with_only_winmail(
        tnef(rtf_body=RICH_TEXT_SUMMARY), From="Sam Patel <sam.patel@police.example>", To=BUSINESS_UNIT,
        Subject="Escalation & Resolution Protocol: Stage 1 Summary", Date="Thu, 26 Nov 2026 10:00:00 +0000",
        Message_ID="<kind-2-rtf@police.example>",
    ))
    desk.watch()
    (detail,) = recorded(desk)
    assert (detail["stage"], detail["outcome"], detail["sender"]) == (1, "resolved", "sam.patel@police.example")
    assert detail["flaws"] == []


def test_an_attached_outlook_msg_with_only_an_rtf_body_is_read(desk):
    """GIVEN a forward carrying an Outlook .msg written in Rich Text mode (no plain or HTML body,
    only compressed RTF) whose message is a stage 1 summary, resolved, from the police WHEN drained
    THEN the summary is recorded, resolved, from its own sender."""
    msg = outlook_msg(
        subject="Escalation & Resolution Protocol: Stage 1 Summary", body=None, rtf_body=RICH_TEXT_SUMMARY,
        sender="sam.patel@police.example", sender_name="Sam Patel", to="imran.qureshi@oldham.example",
        sent=datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc),
    )
    desk.deliver(_forwarding(msg, "Stage 1 Summary.msg", n=3))
    desk.watch()
    (detail,) = recorded(desk)
    assert (detail["stage"], detail["outcome"], detail["sender"]) == (1, "resolved", "sam.patel@police.example")


@pytest.mark.parametrize("broken, says", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "damaged"),
    (b"not a compound file at all", "not a Compound File"),
    (compound_file({"Contents": b"x" * 100}), "no property stream"),
])
def test_a_malformed_outlook_msg_is_named_and_the_summary_still_recorded(desk, broken, says):
    """GIVEN a stage 1 summary, escalated, carrying a .msg that is truncated, not a Compound File, or a
    Compound File without a message's property stream WHEN drained THEN the summary is recorded and
    the fault is noted naming the file and why."""
    desk.deliver(summary_with(_msg_part(broken, "minutes.msg"), n=20))
    desk.watch()
    (detail,) = recorded(desk)
    assert detail["outcome"] == "escalated"
    flaws = " ".join(detail["flaws"])
    assert "minutes.msg" in flaws and says in flaws


def _msg_part(data: bytes, filename: str) -> MIMEApplication:
    part = MIMEApplication(data, "vnd.ms-outlook")
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


# 3 ------------------------------------------------------------------------------------------------

def test_an_html_only_summary_is_read_as_text(desk):
    """GIVEN a stage 1 summary whose only body is HTML, the outcome in a table WHEN drained THEN the
    outcome escalated is read from it."""
    desk.deliver(f"{KINDS}/k03-html-only.eml")
    desk.watch()
    (detail,) = recorded(desk)
    assert detail["outcome"] == "escalated" and desk.cases()[0]["stage"] == 2


# 4 ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reply", ["k04-outlook-reply.eml", "k04-gmail-reply.eml"])
def test_an_outcome_in_the_quoted_part_of_a_reply_is_ignored(desk, reply):
    """GIVEN an escalated stage 1 summary, then a reply quoting an earlier text with 'Outcome: Resolved'
    under an Outlook From:/Sent: block, or under a German Gmail 'Am … schrieb' line, without '>' marks
    WHEN drained THEN the reply is recorded as a reply and the case stays open at stage 2."""
    desk.deliver(f"{KINDS}/k04-first.eml")
    desk.deliver(f"{KINDS}/{reply}")
    desk.watch()
    first, second = recorded(desk)
    assert second["classification"] == "reply" and second["outcome"] is None
    assert [(c["stage"], c["status"]) for c in desk.cases()] == [(2, "open")]


# 5 ------------------------------------------------------------------------------------------------

def test_harmless_flaws_are_noted_and_the_summary_recorded(desk):
    """GIVEN a stage 1 summary with a raw 8-bit byte in its subject, a body labelled windows-874 and a
    badly padded base64 logo WHEN drained THEN it is recorded as resolved with each flaw noted."""
    desk.deliver(f"{KINDS}/k05-harmless-flaws.eml")
    desk.watch()
    (row,) = desk.ledger()
    assert row["state"] == "done", row["reason"]
    (detail,) = recorded(desk)
    assert detail["outcome"] == "resolved"
    flaws = " ".join(detail["flaws"])
    assert "Subject header" in flaws and "windows-874" in flaws and "base64" in flaws


# 6 ------------------------------------------------------------------------------------------------

def test_a_pdf_that_is_not_a_form_is_kept_and_the_summary_recorded(desk):
    """GIVEN a stage 1 summary carrying meeting minutes as a PDF with no form in it WHEN drained THEN
    the summary is recorded and the PDF kept as a document on the case, its fault noted."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    pdf = io.BytesIO()
    writer.write(pdf)
    desk.deliver(summary_with(MIMEApplication(pdf.getvalue(), "pdf", Name="minutes.pdf"), n=6))
    desk.watch()
    (detail,) = recorded(desk)
    assert detail["outcome"] == "escalated"
    assert [d["filename"] for d in desk.documents() if d["kind"] == "attachment"] == ["minutes.pdf"]
    assert any("minutes.pdf" in flaw for flaw in detail["flaws"])


def test_a_hostile_file_refuses_the_message_and_the_reason_names_it(desk):
    """GIVEN a stage 1 summary carrying a Word file with a macro project WHEN drained THEN it is
    quarantined and the reason names that file."""
    hostile = docx_with({}, {"word/vbaProject.bin": b"\x00macro"})
    desk.deliver(summary_with(MIMEApplication(hostile, "octet-stream", Name="concern.docx"), n=7))
    desk.watch()
    (row,) = desk.ledger()
    assert row["state"] == "quarantined" and "concern.docx" in row["reason"] and "macro" in row["reason"]


# 7 ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [None, "=?utf-8?B?Y29uY2Vybi5kb2N4?="])
def test_a_template_is_recognised_by_its_content(desk, name):
    """GIVEN the escalation template sent as application/octet-stream with no name, or with an
    unquoted encoded-word for a name WHEN drained THEN it is read as the form it is."""
    part = MIMEApplication(ONOFF_DOCX, "octet-stream")
    if name:
        part["Content-Disposition"] = f"attachment; filename={name}"
    desk.deliver(template_mail(part, "7"))
    desk.watch()
    (form,) = desk.events("form-read")
    assert form["detail"]["fields"]["current_level_of_need"] == "early-help"


# 8 ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ticked", [b'<w:checked w:val="TRUE"/>', b'<w:checked w:val="On"/>', b"<w:checked/>", b'<w:checked w:val="1"/>'])
def test_a_legacy_check_box_is_ticked_in_every_spelling(ticked):
    """GIVEN the template with the Early Help box ticked as TRUE, On, an empty <w:checked/> or 1 WHEN
    read THEN the current level of need is early help."""
    data = docx_with({b'<w:checked w:val="on"/>': ticked})
    assert read_form(data, "escalation.docx").fields["current_level_of_need"] == "early-help"


def test_a_word_2010_check_box_with_true_is_ticked():
    """GIVEN a Word 2010 content-control check box whose w14:checked is 'true' WHEN read THEN ticked."""
    from resdesk.forms.docx_model import on_off
    from lxml import etree

    w14 = "http://schemas.microsoft.com/office/word/2010/wordml"
    for value, expected in (("true", True), ("1", True), ("off", False), ("FALSE", False)):
        element = etree.fromstring(f'<w14:checked xmlns:w14="{w14}" w14:val="{value}"/>')
        assert on_off(element, w14) is expected


# 9 ------------------------------------------------------------------------------------------------

def test_a_bounce_of_our_acknowledgement_marks_it_bounced_and_alerts(desk):
    """GIVEN a stage 1 summary, acknowledged, then a delivery report of that acknowledgement WHEN
    drained, then drained and ticked again THEN the acknowledgement is marked bounced, an alert is
    raised, the report is filed on the case without a reply, and the business unit is mailed about it
    exactly once; nothing goes to the bouncing address, and nothing sent afterwards (a reminder
    included) answers or threads onto the report."""
    desk.deliver(f"{KINDS}/k04-first.eml")
    desk.watch()
    (ack,) = desk.sent()
    report = EmailMessage()
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.police.example>"
    report["To"] = "escalations@oldham.example"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Message-ID"] = "<bounce-1@mx.police.example>"
    report.set_content("The mail system could not deliver your message.")
    report.make_mixed()
    report.replace_header("Content-Type", 'multipart/report; report-type=delivery-status; boundary="b"')
    report.set_boundary("b")
    headers = EmailMessage()
    headers.set_content(f"Message-ID: {ack['Message-ID']}\nSubject: {ack['Subject']}\n", subtype="rfc822-headers")
    report.attach(headers)
    desk.deliver(report.as_bytes())
    desk.watch()
    desk.watch()
    desk.tick("2026-11-25T12:00")
    sent = desk.sent()
    (notice,) = [m for m in sent if str(m["Subject"]).startswith("Undelivered")]
    assert not any("bounce-1@mx.police.example" in str(m["In-Reply-To"] or "") + str(m["References"] or "")
                   or "mx.police.example" in str(m["To"]) for m in sent)
    assert str(notice["To"]) == BUSINESS_UNIT and ack["Message-ID"] in notice.get_content()
    assert "bounce-1@mx.police.example" not in str(notice["In-Reply-To"] or "") + str(notice["References"] or "")
    states = {row["message_id"]: row["state"] for row in desk._all(_outbox())}
    assert states[ack["Message-ID"]] == "bounced"
    assert [a["kind"] for a in desk._all(_alerts())] == ["outbound-bounced"]
    assert recorded(desk)[-1]["classification"] == "automatic"


def _outbox():
    from sqlalchemy import select
    from resdesk.cases.models import Outbound

    return select(Outbound)


def _alerts():
    from sqlalchemy import select
    from resdesk.cases.models import Alert

    return select(Alert)


# 10 -----------------------------------------------------------------------------------------------

def test_a_summary_through_a_distribution_list_is_recorded_but_not_acknowledged(desk):
    """GIVEN a person's stage 1 summary sent through a list (Precedence: list, List-Id) WHEN drained,
    and again when stage 2 is long overdue THEN the case is opened at stage 2, its sender is a party
    but the list is not, and nothing is ever sent to the list: not an acknowledgement, not the overdue
    alert that goes to the case's parties."""
    desk.deliver(f"{KINDS}/k10-distribution-list.eml")
    desk.watch()
    (detail,) = recorded(desk)
    assert detail["outcome"] == "escalated" and detail["acknowledge"] is False
    assert [c["stage"] for c in desk.cases()] == [2]
    desk.tick("2027-01-20T12:00")
    assert any("Overdue" in str(m["Subject"]) for m in desk.sent())
    assert not [m for m in desk.sent() if "eh-leads@lists.council.example" in f"{m['To']} {m['Cc']}"]
    parties = {p["email"] for p in desk.parties()}
    assert "amy.clarke@council-early-help.example" in parties and "eh-leads@lists.council.example" not in parties


# 11 -----------------------------------------------------------------------------------------------

def test_our_own_notice_to_the_business_unit_is_left_in_the_inbox(desk):
    """GIVEN the watched inbox is the business unit's, holding one of our reminders to it WHEN
    drained THEN it stays in the inbox, recorded as left there."""
    desk.deliver(f"{KINDS}/k11-our-notice-to-the-business-unit.eml")
    desk.watch()
    (row,) = desk.ledger()
    assert row["state"] == "ignored" and "business unit" in row["reason"]
    assert desk.folder_count("INBOX") == 1


# 12 -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, says", [
    ("k12-smime.eml", "S/MIME"),
    ("k12-rpmsg.eml", "Purview"),
    ("k12-gateway.eml", "secure-mail gateway"),
    ("k12-broken.eml", "malformed"),
])
def test_refused_mail_from_a_person_is_answered_once_and_the_business_unit_told(desk, name, says):
    """GIVEN protocol mail from a person that cannot be read (S/MIME, Purview, a gateway notice, broken
    MIME) WHEN drained and ticked twice THEN it is quarantined with a reason saying what to do, its
    sender gets one reply saying what was wrong, and the business unit one notice with the reason."""
    desk.deliver(f"{KINDS}/{name}")
    desk.watch()
    desk.tick("2026-11-25T12:00")
    (row,) = desk.ledger()
    assert row["state"] == "quarantined" and says in row["reason"]
    sent = desk.sent()
    assert sorted(str(m["To"]) for m in sent) == sorted([BUSINESS_UNIT, row["answer_to"]])
    reply = next(m for m in sent if str(m["To"]) != BUSINESS_UNIT)
    assert says in reply.get_content() and reply["In-Reply-To"] == row["message_id"]
    assert reply["Auto-Submitted"] == "auto-replied"
    notice = next(m for m in sent if str(m["To"]) == BUSINESS_UNIT)
    assert says in notice.get_content()


def test_the_reply_to_refused_mail_names_every_faulty_file_and_how_to_resend(desk):
    """GIVEN a stage 1 summary carrying two hostile Word files, one with a macro project and one
    declaring a DOCTYPE WHEN drained and ticked THEN the sender's one reply names both files and
    says how to send the message again."""
    macro = docx_with({}, {"word/vbaProject.bin": b"VBA"})
    doctype = docx_with({b"<w:document": b'<!DOCTYPE w [<!ENTITY x "y">]><w:document'})
    parts = []
    for name, data in (("first-escalation.docx", macro), ("second-escalation.docx", doctype)):
        part = MIMEApplication(data, "vnd.openxmlformats-officedocument.wordprocessingml.document")
        part.add_header("Content-Disposition", "attachment", filename=name)
        parts.append(part)
    desk.deliver(summary_with(*parts, n="12-two", text="Outcome: Escalated to stage 2\n"))
    desk.watch()
    desk.tick("2026-11-26T12:00")
    (row,) = desk.ledger()
    assert row["state"] == "quarantined"
    (reply,) = [m for m in desk.sent() if str(m["To"]) != BUSINESS_UNIT]
    text = reply.get_content()
    assert "first-escalation.docx" in text and "macro" in text
    assert "second-escalation.docx" in text and "DOCTYPE" in text
    assert "How to send it again" in text


def test_a_form_with_several_faulty_fields_names_each():
    """GIVEN the escalation template with a date of birth that is no date and an email address that is
    no address WHEN read THEN the error names both fields, not only the first."""
    data = docx_with({b"30/11/2011": b"31/02/2011", b"helen.osei@healthtrust.example": b"helen at the trust"})
    with pytest.raises(FormError) as raised:
        read_form(data, "escalation.docx")
    assert "child_dob" in str(raised.value) and "raised_by_email" in str(raised.value)


def test_a_spoofed_sender_is_not_answered_but_the_business_unit_is_told(desk):
    """GIVEN a summary whose sender fails DMARC at our server WHEN drained and ticked THEN it is
    quarantined, only the business unit is told, and the sender gets nothing."""
    desk.config.write_text(desk.config.read_text().replace(
        'business_unit = "oscp.group@oldham.example"',
        'business_unit = "oscp.group@oldham.example"\nauthserv_id = "mx.oldham.example"',
    ))
    raw = (REALWORLD / KINDS / "k04-first.eml").read_bytes()
    desk.deliver(b"Authentication-Results: mx.oldham.example; dmarc=fail header.from=police.example\n" + raw)
    desk.watch()
    desk.tick("2026-11-25T12:00")
    (row,) = desk.ledger()
    assert row["state"] == "quarantined" and row["answer_to"] is None
    assert [str(m["To"]) for m in desk.sent()] == [BUSINESS_UNIT]


def test_a_daily_digest_tells_the_business_unit_once_after_the_day(desk):
    """GIVEN quarantine_notice = daily and two refused messages WHEN ticks run that day and the next
    THEN one digest naming both goes to the business unit, after the day has ended."""
    desk.config.write_text(desk.config.read_text().replace(
        'business_unit = "oscp.group@oldham.example"',
        'business_unit = "oscp.group@oldham.example"\nquarantine_notice = "daily"',
    ))
    desk.deliver(f"{KINDS}/k12-smime.eml")
    desk.deliver(f"{KINDS}/k12-rpmsg.eml")
    desk.watch()
    today = [m for m in desk.sent() if str(m["To"]) == BUSINESS_UNIT]
    desk.tick("2099-01-01T12:00")
    desk.tick("2099-01-01T13:00")
    digests = [m for m in desk.sent() if str(m["To"]) == BUSINESS_UNIT]
    assert today == [] and len(digests) == 1
    assert "2 message(s)" in digests[0]["Subject"]


@pytest.mark.parametrize("node, expected", [
    # a radio group with no /V whose kids carry the state, exported through /Opt
    ({"/Ff": 1 << 15, "/Kids": [{"/AS": "/Off"}, {"/AS": "/1"}], "/Opt": ["early-help", "child-in-need"]}, "child-in-need"),
    # a radio group whose /V is an index into /Opt
    ({"/Ff": 1 << 15, "/V": "/0", "/Opt": ["early-help", "child-in-need"]}, "early-help"),
    # check boxes whose "on" state is not /Yes, in /V or only in the widget's /AS
    ({"/V": "/On"}, True), ({"/V": "/Ja"}, True), ({"/AS": "/1"}, True), ({"/V": "/Off", "/AS": "/Off"}, False),
])
def test_pdf_buttons_are_read_in_every_way_editors_store_them(node, expected):
    """GIVEN a PDF button field as Acrobat, Edge or Preview stores it WHEN its value is read THEN the
    chosen export value (radio) or the tick (check box) is found."""
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject

    from resdesk.forms.pdf_reader import _value

    def pdf(value):
        if isinstance(value, dict):
            return DictionaryObject({NameObject(k): pdf(v) for k, v in value.items()})
        if isinstance(value, list):
            return ArrayObject([pdf(v) for v in value])
        if isinstance(value, int):
            return NumberObject(value)
        return NameObject(value) if value.startswith("/") else TextStringObject(value)

    assert _value("/Btn", pdf(node)) == expected


LEVELS = ["Universal Services", "Early Help", "Child in Need (S17)", "Child Protection (S47)", "Child in Care",
          "Legal status:", "Care Leaver"]
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
WORD_BOX = (f'<w:r {_W}><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val=""/><w:checkBox>'
            '<w:sizeAuto/><w:default w:val="0"/><w:checked w:val="{}"/></w:checkBox></w:ffData></w:fldChar></w:r>',
            f'<w:r {_W}><w:instrText> FORMCHECKBOX </w:instrText></w:r>',
            f'<w:r {_W}><w:fldChar w:fldCharType="end"/></w:r>')


def sandwell_grid(mark: str, *, current: int, perceived: int) -> bytes:
    """Sandwell Appendix 3's escalation template with its two level-of-need grids laid out as the seed
    prints them: the levels a header row, the choice marked with ``mark`` in the cell under one of
    them (``"box"``: a ticked Word check box there, unticked boxes under the others)."""
    from docx import Document
    from docx.oxml import parse_xml

    document = Document()
    document.add_paragraph("Multi-Agency Escalation of Safeguarding Concern Template – (required from stage 2)")
    rows = [["Name of child/young person:", "K.L."], ["D.O.B:", "01/02/2015"],
            ["Name of Professional escalating a concern:", "Helen Osei"], ["Role and Agency:", "Nurse, Health"]]
    table = document.add_table(rows=len(rows) + 4, cols=8)
    for r, (label, value) in enumerate(rows):
        table.cell(r, 0).text, table.cell(r, 1).text = label, value
    for grid, (label, chosen) in enumerate([("Current level of need", current),
                                            ("Please indicate perceived level of need:", perceived)]):
        header, marks = table.rows[len(rows) + 2 * grid], table.rows[len(rows) + 2 * grid + 1]
        header.cells[0].text = label
        for column, level in enumerate(LEVELS, start=1):
            header.cells[column].text = level
            if mark == "box":
                paragraph = marks.cells[column].paragraphs[0]._p
                for run in WORD_BOX:
                    paragraph.append(parse_xml(run.format("1" if column - 1 == chosen else "0")))
            elif column - 1 == chosen:
                marks.cells[column].text = mark
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.mark.parametrize("mark", ["X", "✓", "✔", "☒", "Yes", "box"])
def test_a_level_of_need_marked_under_its_header_is_read(desk, mark):
    """GIVEN Sandwell's escalation template whose level-of-need grids have the levels as a header row,
    Early Help marked under the current level and Child in Need under the perceived one with ``mark``
    (or a ticked Word check box among unticked ones) WHEN mailed and drained THEN both levels are read."""
    part = MIMEApplication(sandwell_grid(mark, current=1, perceived=2), "vnd.openxmlformats-officedocument.wordprocessingml.document")
    part.add_header("Content-Disposition", "attachment", filename="escalation.docx")
    desk.deliver(template_mail(part, "8-grid"))
    desk.watch()
    (form,) = desk.events("form-read")
    fields = form["detail"]["fields"]
    assert (fields["current_level_of_need"], fields["perceived_level_of_need"]) == ("early-help", "child-in-need")
