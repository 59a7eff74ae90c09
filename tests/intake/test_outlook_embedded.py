"""Outlook ``.msg`` files that embed other messages (a mail dragged into a new mail, forwarded on):
each embedded message read like the ``.msg`` itself, forms found at any level read as if attached
directly, and hostile nesting — deep, wide, looping, swelling — refused with a reason while the
watcher goes on. The files are written by aspose-email-foss (see ``embedded_msg``)."""

from __future__ import annotations

from email import policy
from email.mime.application import MIMEApplication
from email.parser import BytesParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from aspose.email_foss.msg import MapiMessage, MsgWriter
from sqlalchemy import select

from resdesk.cases import open_store
from resdesk.cases.models import Case, Event
from resdesk.intake.limits import MESSAGE_DEPTH
from resdesk.intake.outlook_msg import OutlookMsgError, outlook_message
from tests.intake.embedded_msg import as_msg, looping, mail, nested, sharing_sectors, wide
from tests.intake.realworld_desk import BUSINESS_UNIT, RealDesk
from tests.intake.test_realworld_kinds import ONOFF_DOCX, mail_carrying, summary_with
from tests.intake.test_watch_imap import environment, said, watch_once

SUMMARY_SUBJECT = "Escalation & Resolution Protocol: Stage 1 Summary"


def stage_1_summary(outcome: str = "Escalated to stage 2", *, files: dict[str, bytes] | None = None):
    """Sam Patel's stage 1 summary, sent on Tuesday 24 November at 09:30."""
    return mail(
        SUMMARY_SUBJECT, f"Stage 1 call about K.R.\n\nOutcome: {outcome}\n\nSam Patel\n",
        sender="Sam Patel <sam.patel@police.example>", to="imran.qureshi@oldham.example",
        date="Tue, 24 Nov 2026 09:30:00 +0000", message_id="<summary-kr@police.example>", files=files,
    )


def template_mail():
    """Helen Osei's mail carrying the filled escalation template."""
    return mail(
        "Multi-agency escalation of a safeguarding concern", "Please find the escalation template attached.\n",
        sender="Helen Osei <helen.osei@healthtrust.example>", to="imran.qureshi@oldham.example",
        date="Tue, 24 Nov 2026 09:30:00 +0000", message_id="<template-kr@healthtrust.example>",
        files={"escalation.docx": ONOFF_DOCX},
    )


def forwarded(message, levels: int) -> bytes:
    """``message`` forwarded by colleagues ``levels`` times, each dragging the mail they were sent
    into a new one; the last forward saved as the ``.msg`` that reaches the inbox."""
    for level in range(levels - 1):
        message = forwarded_mail(message, n=level)
    return as_msg(message)


def forwarded_mail(message, *, n: int):
    """A colleague's mail saying nothing of its own, carrying ``message`` as ``<its subject>.msg``."""
    return mail(
        f"FW: {message['Subject']}", "Forwarding this on for the record.\n",
        sender=f"Colleague {n} <colleague{n}@oldham.example>", to="imran.qureshi@oldham.example",
        date="Tue, 24 Nov 2026 10:00:00 +0000", message_id=f"<forward-{n}@oldham.example>",
        carried=((f"{message['Subject']}.msg", message),),
    )


def reaching_the_inbox(msg: bytes, *, n: int | str) -> bytes:
    """Imran's mail to the business unit carrying ``msg`` as ``FW for the record.msg``."""
    part = MIMEApplication(msg, "vnd.ms-outlook")
    part.add_header("Content-Disposition", "attachment", filename="FW for the record.msg")
    return mail_carrying(
        part, sender="Imran Qureshi <imran.qureshi@oldham.example>", message_id=f"<embedded-{n}@oldham.example>",
        subject="FW: for the record", date="Tue, 24 Nov 2026 11:00:00 +0000", text="See attached.\n",
    )


def parsed(data: bytes):
    return BytesParser(policy=policy.default).parsebytes(data)


def carried_parts(message):
    return [part for part in message.iter_attachments() if part.get_content_type() == "message/rfc822"]


# Reading one file ---------------------------------------------------------------------------------

def test_each_embedded_message_is_read_with_its_subject_body_sender_date_and_files():
    """GIVEN Sam's stage 1 summary, with the template attached, forwarded three times by dragging
    the mail into a new one, saved as one .msg WHEN it is read THEN each level is a message/rfc822
    part named after its subject, and the innermost has Sam's subject, body, address, date and the
    template's exact bytes."""
    data = forwarded(stage_1_summary(files={"escalation.docx": ONOFF_DOCX}), 3)
    message = parsed(outlook_message(data, filename="FW for the record.msg"))
    subjects = [str(message["Subject"])]
    while carried := carried_parts(message):
        (part,) = carried
        message = part.get_content()
        subjects.append(str(message["Subject"]))
        assert part.get_filename() == f"{subjects[-1]}.msg"
    assert subjects == [f"FW: FW: {SUMMARY_SUBJECT}", f"FW: {SUMMARY_SUBJECT}", SUMMARY_SUBJECT]
    assert message["From"].addresses[0].addr_spec == "sam.patel@police.example"
    assert message["Date"].datetime.isoformat() == "2026-11-24T09:30:00+00:00"
    assert "Outcome: Escalated to stage 2" in message.get_body(("plain",)).get_content()
    (template,) = [part for part in message.iter_attachments() if part.get_filename() == "escalation.docx"]
    assert template.get_content() == ONOFF_DOCX


def test_messages_nested_to_the_depth_limit_are_all_opened():
    """GIVEN a .msg whose messages nest exactly MESSAGE_DEPTH deep (the .msg itself is the first)
    WHEN it is read THEN every level is opened, down to the innermost message's own body."""
    message = parsed(outlook_message(nested(MESSAGE_DEPTH), filename="deep.msg"))
    for _ in range(MESSAGE_DEPTH - 1):
        (part,) = carried_parts(message)
        message = part.get_content()
    assert str(message["Subject"]) == f"Level {MESSAGE_DEPTH}"
    assert message.get_body(("plain",)).get_content().strip() == "The innermost message."


def test_an_embedded_message_with_the_24_byte_header_the_format_gives_it_has_its_date_read():
    """GIVEN a .msg whose embedded message's property stream has the 24-byte header [MS-OXMSG]
    2.4.1.2 gives an embedded message (aspose-email-foss writes the top level's 32 bytes; this file
    is aspose's with those 8 bytes taken out) WHEN it is read THEN the embedded message's delivery
    time is read from the right entry."""
    inner = MapiMessage.from_email_message(stage_1_summary())
    outer = MapiMessage.create("FW: summary", "Forwarding.")
    outer.add_embedded_message_attachment(inner, filename="summary.msg")
    document = outer.to_msg_document()
    (storage,) = [s for s in document.root.storages if s.name.startswith("__attach")]
    embedded = next(s for s in storage.storages if s.name == "__substg1.0_3701000D")
    stream = next(s for s in embedded.streams if s.name == "__properties_version1.0")
    assert (len(stream.data) - 32) % 16 == 0
    stream.data = stream.data[:24] + stream.data[32:]
    message = parsed(outlook_message(MsgWriter.to_bytes(document), filename="summary.msg"))
    (part,) = carried_parts(message)
    assert part.get_content()["Date"].datetime.isoformat() == "2026-11-24T09:30:00+00:00"


def _too_wide_across_levels() -> bytes:
    return nested(4, files_per_message=30)  # 3 embedded messages and 4 × 30 files: 123 in all


def _swelling() -> bytes:
    """30 embedded messages, each with a 4-byte note, and one 4 MB file; every note then pointed
    at the 4 MB file's sectors: 124 MB of streams in a 4 MB file."""
    top = MapiMessage.create("FW: everything", "All of them.")
    for n in range(30):
        inner = MapiMessage.create(f"Message {n}", "One of many.")
        inner.add_attachment("note.txt", b"note")
        top.add_embedded_message_attachment(inner, filename=f"Message {n}.msg")
    top.add_attachment("big.bin", b"\x01" * (4 * 1024 * 1024))
    notes = [[f"__attach_version1.0_#{n:08X}", "__substg1.0_3701000D", "__attach_version1.0_#00000000",
              "__substg1.0_37010102"] for n in range(30)]
    return sharing_sectors(top.to_bytes(), ["__attach_version1.0_#0000001E", "__substg1.0_37010102"], notes)


HOSTILE = {
    "deep": (lambda: nested(MESSAGE_DEPTH + 1), f"nests messages more than {MESSAGE_DEPTH} deep"),
    "very deep": (lambda: nested(300), "nest too deep to be read"),
    "wide": (lambda: wide(101), "more than 100 attachments in all"),
    "wide across levels": (_too_wide_across_levels, "more than 100 attachments in all"),
    "looping": (lambda: looping(nested(3)), "loops back on itself"),
    "swelling": (_swelling, "add up to more bytes than the file holds"),
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_nesting_is_refused_with_the_reason(kind):
    """GIVEN a .msg whose embedded messages nest too deep (5 or 300 levels), hold 101 messages side
    by side or 123 attachments over four levels, loop back on themselves, or share sectors so 4 MB
    reads as 124 MB WHEN it is read THEN it is refused naming the file and the reason."""
    build, says = HOSTILE[kind]
    with pytest.raises(OutlookMsgError) as refused:
        outlook_message(build(), filename="hostile.msg")
    assert "hostile.msg" in str(refused.value) and says in refused.value.reason


NESTED_WITH_FILES = nested(3, files_per_message=2, file_bytes=5000)


@pytest.mark.timeout(300)
@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(NESTED_WITH_FILES) - 1), st.integers(0, 255)), min_size=1, max_size=12))
def test_a_damaged_nested_msg_is_read_or_refused_never_crashing(changes):
    """GIVEN a .msg nesting three messages with files, with up to twelve bytes anywhere changed
    (directory entries, sector tables, property streams) WHEN it is read THEN it is read or refused
    with OutlookMsgError: no other exception, no hang."""
    data = bytearray(NESTED_WITH_FILES)
    for offset, value in changes:
        data[offset] = value
    try:
        assert outlook_message(bytes(data), filename="damaged.msg")
    except OutlookMsgError as refused:
        assert "damaged.msg" in str(refused)


# Through the watcher ------------------------------------------------------------------------------

def _recorded(desk: RealDesk) -> list[dict]:
    return [event["detail"] for event in desk.events("message-recorded")]


def _filed(root, raw: bytes) -> tuple[list, list, list]:
    """What ``raw`` filed, drained into an inbox of its own under ``root``: the form fields read,
    the cases (stage, status, opened) and who each recorded message was from (stage, sender)."""
    root.mkdir()
    desk = RealDesk(root)
    desk.deliver(raw)
    desk.watch()
    forms = [event["detail"]["fields"] for event in desk.events("form-read")]
    cases = [(case["stage"], case["status"], case["opened_at"]) for case in desk.cases()]
    return forms, cases, [(d["stage"], d["sender"]) for d in _recorded(desk)]


@pytest.mark.parametrize("levels", [2, MESSAGE_DEPTH])
def test_a_forwarded_filled_template_files_the_case_as_if_attached_directly(tmp_path, levels):
    """GIVEN Helen's filled escalation template, once attached to her mail saved as a .msg, once in
    her mail forwarded so it sits ``levels`` deep (2: in a message embedded in the .msg; 4: the
    deepest opened) WHEN each is drained into its own inbox THEN both file the same case — same
    fields read, same stage, status and date, recorded from Helen."""
    direct = _filed(tmp_path / "direct", reaching_the_inbox(forwarded(template_mail(), 1), n="direct"))
    deep = _filed(tmp_path / "deep", reaching_the_inbox(forwarded(template_mail(), levels), n=levels))
    assert deep == direct
    (fields,) = direct[0]
    assert fields["current_level_of_need"] == "early-help"
    assert direct[2][0][1] == "helen.osei@healthtrust.example"


def test_a_template_nested_past_the_limit_is_kept_with_a_reason(tmp_path):
    """GIVEN a stage 1 summary, escalated, carrying a .msg in which the filled template sits one
    level past MESSAGE_DEPTH WHEN drained THEN the summary is recorded and the case opened, no form
    is read, and the flaw names the .msg and says it nests too deep."""
    desk = RealDesk(tmp_path)
    part = MIMEApplication(forwarded(template_mail(), MESSAGE_DEPTH + 1), "vnd.ms-outlook")
    part.add_header("Content-Disposition", "attachment", filename="chain.msg")
    desk.deliver(summary_with(part, n="past-depth"))
    desk.watch()
    (detail,) = _recorded(desk)
    assert detail["outcome"] == "escalated" and desk.events("form-read") == []
    flaws = " ".join(detail["flaws"])
    assert "chain.msg" in flaws and f"more than {MESSAGE_DEPTH} deep" in flaws


def test_a_forward_of_a_forward_as_attachments_is_read_through_to_the_summary(tmp_path):
    """GIVEN Sam's stage 1 summary (escalated) attached as message/rfc822 to a colleague's forward
    that says nothing of its own, that forward itself attached to the mail reaching the inbox WHEN
    drained THEN Sam's summary is recorded from Sam, not the colleague's forward, and the case opened
    at stage 2, each level read through noted."""
    desk = RealDesk(tmp_path)
    middle = forwarded_mail(stage_1_summary(), n=0)
    outer = mail(
        "FW: for the record", "See attached.\n", sender="Imran Qureshi <imran.qureshi@oldham.example>",
        to=BUSINESS_UNIT, date="Tue, 24 Nov 2026 11:00:00 +0000", message_id="<eml-chain@oldham.example>",
        carried=(("forward.eml", middle),),
    )
    desk.deliver(outer.as_bytes())
    desk.watch()
    (detail,) = _recorded(desk)
    assert (detail["stage"], detail["outcome"], detail["sender"]) == (1, "escalated", "sam.patel@police.example")
    assert {"read from the attached message forward.eml", f"read from the attached message {SUMMARY_SUBJECT}.msg"} <= set(
        detail["flaws"])
    assert [(case["stage"], case["status"]) for case in desk.cases()] == [(2, "open")]


@pytest.mark.timeout(300)
def test_hostile_nesting_is_noted_and_the_watcher_goes_on(tmp_path):
    """GIVEN, in one inbox, a stage 1 summary carrying each hostile .msg (deep, very deep, wide,
    looping, swelling) and then a summary forwarded two levels down WHEN drained in one run THEN
    every summary is recorded, each hostile file noted as a flaw naming it and why, and the last
    one opens its case at stage 2."""
    desk = RealDesk(tmp_path)
    for n, (kind, (build, _)) in enumerate(HOSTILE.items()):
        part = MIMEApplication(build(), "vnd.ms-outlook")
        part.add_header("Content-Disposition", "attachment", filename=f"{kind}.msg")
        desk.deliver(summary_with(part, n=f"hostile-{n}"))
    desk.deliver(reaching_the_inbox(forwarded(stage_1_summary("Escalated to stage 2"), 2), n="after"))
    desk.watch()
    recorded = _recorded(desk)
    assert len(recorded) == len(HOSTILE) + 1
    for detail, (kind, (_, says)) in zip(recorded, HOSTILE.items()):
        flaws = " ".join(detail["flaws"])
        assert f"{kind}.msg" in flaws and says in flaws, kind
    assert recorded[-1]["sender"] == "sam.patel@police.example"
    assert [(case["stage"], case["status"]) for case in desk.cases()][-1] == (2, "open")


@pytest.mark.e2e
def test_a_summary_forwarded_two_levels_down_is_filed_through_dovecot(dovecot, mail_user, tmp_path):
    """GIVEN, in a real Dovecot inbox, Imran's mail carrying a .msg: his colleague's forward, in
    which Sam's stage 1 summary (escalated to stage 2, the template attached) is an embedded message
    — two levels below the mail that arrived WHEN the watcher runs once THEN the summary is recorded
    from Sam at his own time, the case opened at stage 2, the template read, and the mail moved to
    the processed folder."""
    summary = stage_1_summary(files={"escalation.docx": ONOFF_DOCX})
    dovecot.append(mail_user, reaching_the_inbox(forwarded(summary, 2), n="dovecot"))
    env = environment(dovecot, mail_user, tmp_path, RESDESK_PARTNERSHIP__BUSINESS_UNIT=BUSINESS_UNIT)
    process = watch_once(env)
    assert process.wait(timeout=180) == 0, said(process)
    store = open_store(f"sqlite:///{tmp_path / 'case.sqlite3'}", tmp_path / "archive")
    try:
        with store.transaction() as tx:
            (recorded,) = tx.session.execute(select(Event).where(Event.kind == "message-recorded")).scalars()
            (form,) = tx.session.execute(select(Event).where(Event.kind == "form-read")).scalars()
            (case,) = tx.session.execute(select(Case)).scalars()
            detail, fields, filed = recorded.detail, form.detail["fields"], (case.stage, case.status, case.opened_at)
    finally:
        store.close()
    assert (detail["stage"], detail["outcome"], detail["sender"]) == (1, "escalated", "sam.patel@police.example")
    assert "read from the attached message FW for the record.msg" in detail["flaws"]
    assert f"read from the attached message {SUMMARY_SUBJECT}.msg" in detail["flaws"]
    assert fields["current_level_of_need"] == "early-help"
    assert (filed[0], filed[1], filed[2].replace(tzinfo=None).isoformat()) == (2, "open", "2026-11-24T09:30:00")
    assert len(dovecot.folder_uids(mail_user, "Resdesk/Processed")) == 1
