"""The one test of whether mail may get an automatic reply (issue 12, item 5), alone and through
the real watcher."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from resdesk.intake.classify import no_automatic_reply
from resdesk.intake.message import parse_message
from tests.intake.mail import summary
from tests.intake.test_authority import PARTY, Desk

OURS = {"escalations@partnership.example"}


def _with(raw: bytes, **headers: str) -> bytes:
    top = "".join(f"{name.replace('_', '-')}: {value}\r\n" for name, value in headers.items())
    return top.encode("utf-8") + raw


def _message(subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = PARTY
    msg["To"] = "escalations@partnership.example"
    msg["Subject"] = subject
    msg["Message-ID"] = "<oof-1@police.example>"
    msg.set_content("I am away until Monday.")
    return msg.as_bytes()


# Out-of-office and auto-reply subjects as Exchange and Gmail write them in the languages of England's
# agencies' staff: English, Welsh, Polish, Urdu, Punjabi, Bengali, Gujarati, Arabic, Romanian,
# Lithuanian, Turkish and others.
OUT_OF_OFFICE = [
    "Automatic reply: Stage 1 Summary", "Out of Office: Stage 1 Summary", "Auto: Stage 1 Summary",
    "Ateb awtomatig: Crynodeb", "Allan o'r swyddfa: Crynodeb", "Automatyczna odpowiedź: Podsumowanie",
    "Poza biurem: Podsumowanie", "خودکار جواب: Stage 1 Summary", "دفتر سے باہر: Stage 1 Summary",
    "ਸਵੈਚਲਿਤ ਜਵਾਬ: Stage 1 Summary", "স্বয়ংক্রিয় উত্তর: Stage 1 Summary", "સ્વચાલિત જવાબ: Stage 1 Summary",
    "رد تلقائي: Stage 1 Summary", "Răspuns automat: Stage 1 Summary", "Automatinis atsakymas: Stage 1 Summary",
    "Otomatik yanıt: Stage 1 Summary", "Automatická odpověď: Stage 1 Summary", "Réponse automatique : Stage 1",
    "Abwesenheitsnotiz: Stage 1 Summary", "Respuesta automática: Stage 1 Summary",
]


@pytest.mark.parametrize("subject", OUT_OF_OFFICE)
def test_out_of_office_subjects_get_no_automatic_reply(subject):
    """GIVEN an out-of-office reply whose only mark is its localised subject WHEN tested THEN it gets no reply."""
    assert no_automatic_reply(parse_message(_message(subject)), OURS)


@pytest.mark.parametrize("headers", [
    {"Auto_Submitted": "auto-replied"}, {"Auto_Submitted": "auto-generated; owner-email=x@y.example"},
    {"X_Auto_Response_Suppress": "All"}, {"X_Autoreply": "yes"}, {"X_Autorespond": "Out of office"},
    {"List_Id": "<escalations.partnership.example>"}, {"Precedence": "bulk"}, {"Precedence": "junk"},
    {"Precedence": "list"}, {"Precedence": "auto_reply"}, {"List_Unsubscribe": "<mailto:leave@list.example>"},
    {"Return_Path": "<>"}, {"Content_Type": "multipart/report; report-type=delivery-status; boundary=x"},
])
def test_each_automatic_mark_alone_gets_no_automatic_reply(headers):
    """GIVEN a person's stage summary carrying one automatic mark WHEN tested THEN it gets no reply."""
    raw = _with(summary(1, "resolved", sender=PARTY), **headers)
    assert no_automatic_reply(parse_message(raw), OURS)


def test_a_persons_summary_and_auto_submitted_no_may_be_answered():
    """GIVEN a plain stage summary, and one saying Auto-Submitted: no WHEN tested THEN both may be answered."""
    assert no_automatic_reply(parse_message(summary(1, "resolved", sender=PARTY)), OURS) is None
    assert no_automatic_reply(parse_message(_with(summary(1, "resolved", sender=PARTY), Auto_Submitted="no")), OURS) is None


def test_our_own_acknowledgement_looped_back_through_a_forwarder_is_recognised():
    """GIVEN our acknowledgement, forwarded by a mailing host that rewrote From and dropped our X-Resdesk and
    Auto-Submitted headers but kept the Message-ID WHEN tested THEN it gets no reply."""
    msg = EmailMessage()
    msg["From"] = "Forwarder <relay@forwarder.example>"
    msg["To"] = "escalations@partnership.example"
    msg["Subject"] = "RE: Escalation & Resolution Protocol: Stage 1 Summary [OLD-2026-0001-ABCDEF]"
    msg["Message-ID"] = "<0123456789abcdef.resdesk@partnership.example>"
    msg.set_content("Thank you, your message has been recorded.")
    assert "Message-ID is one the outbox wrote" in no_automatic_reply(parse_message(msg.as_bytes()), OURS)


@pytest.fixture
def desk(tmp_path):
    desk = Desk(tmp_path, None)
    yield desk
    desk.store.close()


def test_the_watcher_acknowledges_none_of_them(desk):
    """GIVEN a case opened by a party's summary WHEN the party's out-of-office (X-Autoreply only), a summary
    sent through a list (List-Id) and one marked X-Auto-Response-Suppress arrive on the case's thread
    THEN the first is filed as automatic mail, and none of the three is to be acknowledged, while the
    opening summary is."""
    desk.receive(summary(1, "escalated", n=1, sender=PARTY))
    ref = desk.only_ref()
    thread = "<summary-1-1@police.example>"
    desk.receive(_with(summary(1, None, n=2, sender=PARTY, in_reply_to=thread, subject="RE: your message"), X_Autoreply="yes"))
    desk.receive(_with(summary(2, "escalated", n=3, sender=PARTY, in_reply_to=thread), List_Id="<esc.list.example>"))
    desk.receive(_with(summary(2, "escalated", n=4, sender=PARTY, in_reply_to=thread), X_Auto_Response_Suppress="All"))
    recorded = {e["message_id"]: e["detail"] for e in desk.case(ref)["events"] if e["kind"] == "message-recorded"}
    assert recorded[thread]["acknowledge"] is True
    assert recorded["<summary-1-2@police.example>"]["classification"] == "automatic"
    assert [recorded[f"<summary-{s}-{n}@police.example>"]["acknowledge"] for s, n in ((1, 2), (2, 3), (2, 4))] == [False] * 3
