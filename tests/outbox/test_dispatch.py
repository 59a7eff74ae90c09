"""The outbox at work against a real SMTP server (aiosmtpd) and a real SQLite case file."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from datetime import datetime, timedelta, timezone
from email import policy
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import select

from resdesk.cases import Alert, Document, Event, Message, Outbound, open_store, verify_chain
from resdesk.protocols import LOCAL
from resdesk.outbox.dispatch import UNCONFIRMED, run_tick
from resdesk.outbox.smtp import PermanentSendFailure
from tests.render.casefile import (
    case_token,
    BUSINESS_UNIT,
    BUSINESS_UNIT,
    PRACTITIONER,
    REGISTRY,
    local,
    oldham_stage2_escalated,
    recorded,
    sender_for,
    settings_for,
)
from tests.render.tools import libreoffice_text, pdf_text, qpdf_check

REPO = Path(__file__).resolve().parents[2]
SUMMARY_AT = local(2026, 12, 23, 10, 0)
NOW = SUMMARY_AT + timedelta(seconds=3)
# Notices the protocol files address to the partnership (OSCP's group, SCSP's business unit) go to
# the business unit the settings name, never to the address printed in the file.
OSCP = BUSINESS_UNIT


@pytest.fixture
def store(tmp_path):
    opened = open_store(f"sqlite:///{tmp_path / 'resdesk.sqlite3'}", tmp_path / "archive")
    yield opened
    opened.close()


def _parse(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def _by_recipient(messages) -> dict[str, list]:
    found: dict[str, list] = {}
    for message in messages:
        for rcpt in message.rcpt_tos:
            found.setdefault(rcpt.lower(), []).append(message)
    return found


def test_oldham_stage2_escalated_sends_one_acknowledgement_and_the_stage3_notification(store, smtp_server, tmp_path):
    """GIVEN a recorded Oldham stage 2 summary with outcome escalated WHEN the tick runs, twice
    THEN exactly two messages leave: the acknowledgement to the sender only, threaded onto the summary,
    auto-replied, with a valid PDF stating the case, the stage and its due time (Tue 29 Dec 23:59),
    and the Notification of Escalation progressing to stage 3 to the OSCP group; every document sent
    is filed on the case with its SHA-256 and the audit chain holds."""
    ref = oldham_stage2_escalated(store)
    settings = settings_for(tmp_path, smtp_server)
    first = run_tick(store, settings, REGISTRY, NOW, sender_for(smtp_server))
    second = run_tick(store, settings, REGISTRY, NOW + timedelta(minutes=1), sender_for(smtp_server))
    assert len(first.sent) == 2 and second.sent == [] and second.queued == []
    received = smtp_server.messages
    assert len(received) == 2
    routed = _by_recipient(received)
    assert set(routed) == {PRACTITIONER, OSCP.lower()}

    (ack_raw,) = routed[PRACTITIONER]
    assert ack_raw.rcpt_tos == (PRACTITIONER,) and ack_raw.mail_from == "escalations@partnership.example"
    ack = _parse(ack_raw.raw)
    assert ack["In-Reply-To"] == "<stage2@nca.example>"
    assert ack["References"] == "<stage1@nca.example> <stage2@nca.example>"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["Subject"] == f"RE: Escalation & Resolution Protocol: Stage 2 Summary {case_token(store, ref)}"
    (pdf_part,) = list(ack.iter_attachments())
    pdf = pdf_part.get_content()
    qpdf_check(pdf, tmp_path)
    text = pdf_text(pdf, tmp_path)
    for value in (ref, "Tuesday 29 December 2026 at 23:59", "Stage 3", "stage 2 summary (outcome: escalated)",
                  "Siobhán Ó Briain"):
        assert value in text

    (notice_raw,) = routed[OSCP.lower()]
    notice = _parse(notice_raw.raw)
    assert notice["Subject"] == f"Notification of Escalation progressing to stage 3 {case_token(store, ref)}"
    assert notice["Auto-Submitted"] == "auto-generated"
    (notice_pdf,) = [p.get_content() for p in notice.iter_attachments()]
    qpdf_check(notice_pdf, tmp_path, "notice.pdf")
    notice_text = pdf_text(notice_pdf, tmp_path, "notice.pdf")
    assert ref in notice_text and "Zoë Adeyemi" in notice_text and "943 476 5919" in notice_text

    with store.transaction() as tx:
        documents = tx.session.execute(select(Document)).scalars().all()
        rows = tx.session.execute(select(Outbound)).scalars().all()
        assert {d.kind for d in documents} == {"acknowledgement", "notice"}
        assert all(Path(d.path).read_bytes() in (pdf, notice_pdf) for d in documents)
        assert sorted(r.state for r in rows) == ["sent", "sent"]
        assert {r.message_id for r in rows} == {ack["Message-ID"], notice["Message-ID"]}
        assert all(r.raw for r in rows)  # written to the store before sending
        assert {e.kind for e in tx.require_case(ref).events} >= {"notice-sent"}
    assert verify_chain(store) == (True, None)


def test_hostile_inbound_subject_adds_no_recipient(store, smtp_server, tmp_path):
    """GIVEN a recorded summary whose decoded subject carries a line break and a Bcc: line
    WHEN it is acknowledged THEN the reply goes to the sender alone, with no Bcc header and
    the subject on one line."""
    oldham_stage2_escalated(store, subject="Stage 2 Summary\r\nBcc: evil@attacker.example")
    run_tick(store, settings_for(tmp_path, smtp_server), REGISTRY, NOW, sender_for(smtp_server))
    everyone = {rcpt for m in smtp_server.messages for rcpt in m.rcpt_tos}
    assert everyone == {PRACTITIONER, OSCP}
    (ack,) = [_parse(m.raw) for m in smtp_server.messages if m.rcpt_tos == (PRACTITIONER,)]
    assert ack["Bcc"] is None and "\n" not in ack["Subject"]
    assert "evil@attacker.example" not in ack["To"]


def test_temporary_failure_is_retried_later_and_sent_once(store, smtp_server, tmp_path):
    """GIVEN the SMTP server answers 451 to the first message WHEN the tick runs, and again after
    the backoff THEN that message waits with its error recorded, then goes; each message arrives once."""
    oldham_stage2_escalated(store)
    settings = settings_for(tmp_path, smtp_server)
    smtp_server.fail_next(1)
    first = run_tick(store, settings, REGISTRY, NOW, sender_for(smtp_server))
    assert len(first.sent) == 1 and len(first.deferred) == 1
    assert first.deferred[0]["reason"] == "temporary SMTP failure"
    again = run_tick(store, settings, REGISTRY, NOW + timedelta(seconds=1), sender_for(smtp_server))
    assert again.sent == []  # the backoff has not passed
    later = run_tick(store, settings, REGISTRY, NOW + timedelta(minutes=2), sender_for(smtp_server))
    assert len(later.sent) == 1
    ids = [_parse(m.raw)["Message-ID"] for m in smtp_server.messages]
    assert len(ids) == 2 and len(set(ids)) == 2


def test_per_recipient_rate_limit_holds_messages_for_the_next_hour(store, smtp_server, tmp_path):
    """GIVEN a limit of one message per recipient per hour and two summaries from the same sender
    WHEN the tick runs THEN one acknowledgement goes and the other waits until the hour has passed."""
    ref = oldham_stage2_escalated(store)
    with store.transaction() as tx:
        case = tx.require_case(ref)
        recorded(tx, case, SUMMARY_AT + timedelta(minutes=1), classification="reply", stage=3, outcome=None,
                 subject="RE: more", message_id="<reply@nca.example>")
    settings = settings_for(tmp_path, smtp_server, rate_per_recipient_per_hour=1)
    first = run_tick(store, settings, REGISTRY, NOW + timedelta(minutes=2), sender_for(smtp_server))
    assert [r["recipients"] for r in first.deferred] == [[PRACTITIONER]]
    assert first.deferred[0]["reason"] == "per-recipient rate limit"
    assert len(_by_recipient(smtp_server.messages)[PRACTITIONER]) == 1
    later = run_tick(store, settings, REGISTRY, NOW + timedelta(minutes=63), sender_for(smtp_server))
    assert [r["recipients"] for r in later.sent] == [[PRACTITIONER]]
    assert len(_by_recipient(smtp_server.messages)[PRACTITIONER]) == 2


def test_a_tick_after_a_drain_plans_only_the_cases_it_touched(store, smtp_server, tmp_path):
    """GIVEN two escalated cases each owing an acknowledgement, only the second's message completed
    since the drain began
    WHEN the tick plans what that drain touched
    THEN only the second case's messages are queued; a whole tick then queues the first's."""
    from resdesk.outbox.dispatch import touched_since

    first = oldham_stage2_escalated(store)
    began = datetime.now(LOCAL)
    second = oldham_stage2_escalated(store, message_id="<stage2-other@nca.example>")
    with store.transaction() as tx:
        for row in tx.session.execute(select(Message)).scalars():
            row.completed_at = began + timedelta(seconds=1) if row.case_id == tx.require_case(second).id else began - timedelta(hours=1)
    touched = touched_since(store, began)
    settings = settings_for(tmp_path, smtp_server)
    after_drain = run_tick(store, settings, REGISTRY, NOW, sender_for(smtp_server), case_ids=touched)
    assert {q["case"] for q in after_drain.queued} == {second}
    whole = run_tick(store, settings, REGISTRY, NOW, sender_for(smtp_server))
    assert {q["case"] for q in whole.queued} == {first}


def test_rate_limit_counts_messages_sent_before_the_upgrade(tmp_path):
    """GIVEN a case file at the first revision with one acknowledgement sent to a practitioner
    WHEN it is upgraded to the head
    THEN that message counts towards the practitioner's hourly limit."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from resdesk.cases.engine import MIGRATIONS
    from resdesk.outbox import queue

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(text(
            "INSERT INTO outbox (idempotency_key, message_id, kind, recipients, subject, state, attempts, sent_at, created_at)"
            " VALUES ('ack:1', '<a@x>', 'acknowledgement', :to, 's', 'sent', 1, :at, :at)"
        ), {"to": f'["{PRACTITIONER.upper()}"]', "at": (NOW - timedelta(minutes=10)).astimezone(timezone.utc).replace(tzinfo=None)})
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    engine.dispose()
    upgraded = open_store(url, tmp_path / "archive")
    try:
        with upgraded.transaction() as tx:
            assert queue.recipient_free_at(tx, PRACTITIONER, NOW, 1) is not None
            assert queue.recipient_free_at(tx, PRACTITIONER, NOW, 2) is None
    finally:
        upgraded.close()


CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from types import SimpleNamespace
    from resdesk.cases import open_store
    from resdesk.protocols import parse_when
    from resdesk.outbox.dispatch import run_tick
    from tests.render.casefile import REGISTRY, sender_for, settings_for

    from resdesk.outbox.smtp_phased import PhasedSmtpSender

    tmp, port, now, mode = Path(sys.argv[1]), int(sys.argv[2]), parse_when(sys.argv[3]), sys.argv[4]
    server = SimpleNamespace(host="127.0.0.1", port=port)

    class PauseAfterAcceptance:
        # The real SMTP sender; once the server has accepted a message, stop before recording it.
        def __init__(self, inner):
            self.inner = inner

        def send(self, raw, **kwargs):
            self.inner.send(raw, **kwargs)
            print("accepted", flush=True)
            time.sleep(120)

    class PauseBeforeData:
        # The real phased SMTP sender; once the envelope is accepted, stop before DATA.
        def __init__(self, inner):
            self.inner = inner

        def send_phased(self, raw, *, before_data, **kwargs):
            def pause():
                print("envelope accepted", flush=True)
                time.sleep(120)
                before_data()

            self.inner.send_phased(raw, before_data=pause, **kwargs)

        def send(self, raw, **kwargs):
            raise AssertionError("the phased path is expected")

    settings = settings_for(tmp, server)
    store = open_store(settings.storage.database, settings.storage.archive)
    if mode == "after-acceptance":
        sender = PauseAfterAcceptance(sender_for(server))
    elif mode == "before-data":
        sender = PauseBeforeData(PhasedSmtpSender(sender_for(server)))
    else:
        sender = sender_for(server)
    report = run_tick(store, settings, REGISTRY, now, sender)
    print(len(report.sent), flush=True)
    """
)


def _run_child_until(tmp_path, smtp_server, mode: str, signal_line: str) -> None:
    """Run a tick in a child process and SIGKILL it once it prints ``signal_line``."""
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path), str(smtp_server.port), NOW.isoformat(), mode],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = child.stdout.readline()
        assert line.strip() == signal_line, child.stderr.read() if child.poll() is not None else line
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        child.stderr.close()


def test_killed_between_smtp_acceptance_and_commit_never_sends_twice(store, smtp_server, tmp_path):
    """GIVEN a sender process killed (SIGKILL) after the SMTP server accepted the stage 3
    notification and before it recorded that WHEN the tick runs again THEN the notification is not
    sent again: it is marked unconfirmed with an alert naming its Message-ID for a person to check,
    and the acknowledgement still waiting is sent once."""
    oldham_stage2_escalated(store)
    settings = settings_for(tmp_path, smtp_server)
    _run_child_until(tmp_path, smtp_server, "after-acceptance", "accepted")
    assert len(smtp_server.messages) == 1
    (accepted,) = smtp_server.messages
    accepted_id = _parse(accepted.raw)["Message-ID"]

    report = run_tick(store, settings, REGISTRY, NOW + timedelta(minutes=1), sender_for(smtp_server))
    assert [u["message_id"] for u in report.unconfirmed] == [accepted_id]
    assert [s["kind"] for s in report.sent] == ["acknowledgement"]
    run_tick(store, settings, REGISTRY, NOW + timedelta(minutes=2), sender_for(smtp_server))
    ids = [_parse(m.raw)["Message-ID"] for m in smtp_server.messages]
    assert ids.count(accepted_id) == 1 and len(ids) == 2 and len(set(ids)) == 2
    assert accepted.rcpt_tos == (OSCP,)
    with store.transaction() as tx:
        row = tx.session.execute(select(Outbound).where(Outbound.message_id == accepted_id)).scalar_one()
        assert row.state == UNCONFIRMED
        (alert,) = tx.session.execute(select(Alert).where(Alert.kind == "outbound-unconfirmed")).scalars().all()
        assert f"may have accepted {accepted_id}; check before resending" in alert.detail["message"]


def test_stage4_resolution_notice_and_sandwell_template_open_in_libreoffice(store, smtp_server, tmp_path):
    """GIVEN an Oldham case escalated to stage 4 after a Resolution Notice form was read, and a
    Sandwell case at stage 2 WHEN the tick runs THEN OSCP gets the Resolution Notice as PDF and Word,
    the SCSP Business Unit gets the escalation template as PDF and Word, each pre-filled with the
    case's values: every PDF passes qpdf, every Word file opens in LibreOffice showing those values."""
    oldham, sandwell = REGISTRY.get("oldham"), REGISTRY.get("sandwell")
    stage4_at = local(2026, 12, 31, 11, 0)
    with store.transaction() as tx:
        case = tx.create_case(oldham, local(2026, 12, 16, 9), child_name="Zoë Adeyemi", child_identifier="943 476 5919")
        tx.record_stage_summary(case, oldham, 2, "escalated", SUMMARY_AT)
        tx.add_event(case, "form-read", stage4_at, detail={"kind": "resolution-notice", "filename": "rn.docx", "fields": {
            "raised_by_name": "Dev Patel", "raised_by_agency": "Oldham CSC & Partners",
            "outcome_summary": "Unresolved at stage 3; <panel> requested",
            "actions": [{"action": "Convene virtual panel", "owner": "OSCP", "timeline": "4 working days", "completed": None}],
        }})
        tx.record_stage_summary(case, oldham, 3, "escalated", stage4_at)
        other = tx.create_case(sandwell, local(2026, 11, 2, 10), child_name="Kai O'Neill")
        tx.record_stage_summary(other, sandwell, 1, "escalated", local(2026, 11, 4, 10))
    run_tick(store, settings_for(tmp_path, smtp_server), REGISTRY, stage4_at + timedelta(minutes=1), sender_for(smtp_server))
    routed = _by_recipient(smtp_server.messages)
    attachments: dict[str, bytes] = {}
    for address in {OSCP.lower(), BUSINESS_UNIT}:
        for message in routed[address]:
            for part in _parse(message.raw).iter_attachments():
                attachments[part.get_filename()] = part.get_content()
    words = {name: content for name, content in attachments.items() if name.endswith(".docx")}
    assert sorted(words) == ["escalation-concern-SAN-2026-0001.docx", "resolution-notice-OLD-2026-0001.docx"]
    for name, content in attachments.items():
        if name.endswith(".pdf"):
            qpdf_check(content, tmp_path, name)
    rn_pdf = pdf_text(attachments["resolution-notice-OLD-2026-0001.pdf"], tmp_path)
    for value in ("Dev Patel", "Oldham CSC & Partners", "Unresolved at stage 3; <panel> requested", "Zoë Adeyemi",
                  "Convene virtual panel"):
        assert value in rn_pdf
    assert "Kai O'Neill" in pdf_text(attachments["escalation-concern-SAN-2026-0001.pdf"], tmp_path, "s.pdf")
    for content in words.values():
        assert zipfile.ZipFile(BytesIO(content)).testzip() is None
    opened = libreoffice_text(words, tmp_path)
    assert "Dev Patel" in opened["resolution-notice-OLD-2026-0001.docx"]
    assert "Unresolved at stage 3; <panel> requested" in opened["resolution-notice-OLD-2026-0001.docx"]
    assert "Kai O'Neill" in opened["escalation-concern-SAN-2026-0001.docx"]
    assert BUSINESS_UNIT not in routed or all(m.rcpt_tos == (BUSINESS_UNIT,) for m in routed[BUSINESS_UNIT])


def test_sending_turned_off_queues_and_sends_once_turned_on(store, smtp_server, tmp_path):
    """GIVEN smtp.enabled = false WHEN the tick runs THEN what is owed is written to the outbox and
    nothing is sent; WHEN sending is turned on THEN each queued message goes, once."""
    oldham_stage2_escalated(store)
    off = run_tick(store, settings_for(tmp_path, smtp_server, enabled=False), REGISTRY, NOW, sender_for(smtp_server))
    assert off.sending_disabled and len(off.queued) == 2 and off.sent == []
    assert smtp_server.messages == []
    on = run_tick(store, settings_for(tmp_path, smtp_server), REGISTRY, NOW + timedelta(minutes=5), sender_for(smtp_server))
    assert on.queued == [] and len(on.sent) == 2 and len(smtp_server.messages) == 2


HOSTILE_SUBJECT = "=?utf-8?q?Escalation_&_Resolution_Protocol:_Stage_2_Summary=0D=0ABcc:_evil@attacker.example?="


def test_mail_recorded_by_the_intake_processor_is_acknowledged_once(smtp_server, tmp_path):
    """GIVEN a Maildir inbox holding an Oldham stage 2 summary (escalated) whose encoded subject
    carries a line break and a Bcc: line, and an out-of-office reply, WHEN the watcher drains it
    through the intake processor and the tick runs twice THEN the summary's sender gets exactly one
    acknowledgement (key ack:<ledger id>), the OSCP group the stage 3 notification, the out-of-office
    nothing, and no message goes to anyone else."""
    import mailbox

    from resdesk.intake.ledger import Ledger
    from resdesk.intake.process import IntakePolicy, IntakeProcessor
    from resdesk.intake.sources import MaildirSource
    from resdesk.intake.watch import Watcher
    from tests.intake.mail import summary

    settings = settings_for(tmp_path, smtp_server)
    inbox = mailbox.Maildir(tmp_path / "maildir", create=True)
    # The processor trusts a Date only up to a day past receipt, so the mail is dated an hour ago.
    sent = datetime.now(LOCAL).replace(microsecond=0) - timedelta(hours=1)
    raw = summary(2, "escalated", when=sent)
    raw = raw.replace(b"Subject: Escalation & Resolution Protocol: Stage 2 Summary", b"Subject: " + HOSTILE_SUBJECT.encode())
    inbox.add(raw)
    away = summary(2, "escalated", n=2, when=sent, subject="Out of office: Stage 2 Summary")
    inbox.add(away.replace(b"Subject:", b"Auto-Submitted: auto-replied\nSubject:", 1))
    store = open_store(settings.storage.database, settings.storage.archive)
    try:
        ledger = Ledger(store)
        policy = IntakePolicy(frozenset({"escalations@partnership.example"}), (), None, 1_000_000)
        watcher = Watcher(
            MaildirSource(tmp_path / "maildir"), store, IntakeProcessor(store, ledger, REGISTRY.get("oldham"), policy),
            processed_folder="Resdesk/Processed", quarantine_folder="Resdesk/Quarantine", max_bytes=1_000_000,
            ledger=ledger,
        )
        assert watcher.acquire()
        try:
            watcher.drain()
        finally:
            watcher.release()
        first = run_tick(store, settings, REGISTRY, sent + timedelta(hours=1), sender_for(smtp_server))
        run_tick(store, settings, REGISTRY, sent + timedelta(hours=1, minutes=1), sender_for(smtp_server))
        with store.transaction() as tx:
            recorded_events = tx.session.execute(
                select(Event).where(Event.kind == "message-recorded").order_by(Event.id)
            ).scalars().all()
    finally:
        store.close()
    routed = _by_recipient(smtp_server.messages)
    assert set(routed) == {"dana.whitfield@police.example", OSCP.lower()}
    (ack,) = routed["dana.whitfield@police.example"]
    assert ack.rcpt_tos == ("dana.whitfield@police.example",)
    parsed = _parse(ack.raw)
    assert parsed["Bcc"] is None and "evil@attacker.example" not in str(parsed["To"])
    assert parsed["In-Reply-To"] == "<summary-2-1@police.example>"
    summary_event = next(e for e in recorded_events if e.message_id == "<summary-2-1@police.example>")
    assert [s["key"] for s in first.sent if s["kind"] == "acknowledgement"] == [f"ack:{summary_event.ledger_id}"]
    # The out-of-office came from the same sender: the one message Dana got is the summary's acknowledgement.
    assert all(not e.detail["acknowledge"] for e in recorded_events if e is not summary_event)


class RefusingServer:
    """A sender whose server refuses every message for good (5xx), which the loopback server never does."""

    def __init__(self):
        self.attempts = 0

    def send(self, raw, *, mail_from, recipients, message_id):
        self.attempts += 1
        raise PermanentSendFailure(message_id, "the server answered 550 'mailbox unavailable'", 550)


def test_permanent_refusal_gives_up_with_an_alert(store, tmp_path):
    """GIVEN a server that refuses every message with 550 WHEN the tick runs twice THEN each message
    is tried once, marked failed with the server's answer, and an alert names it for a person."""
    oldham_stage2_escalated(store)
    refusing = RefusingServer()
    settings = settings_for(tmp_path)
    first = run_tick(store, settings, REGISTRY, NOW, refusing)
    run_tick(store, settings, REGISTRY, NOW + timedelta(hours=2), refusing)
    assert refusing.attempts == 2 and len(first.failed) == 2 and first.sent == []
    with store.transaction() as tx:
        rows = tx.session.execute(select(Outbound)).scalars().all()
        assert {r.state for r in rows} == {"failed"} and all("550" in r.last_error for r in rows)
        alerts = tx.session.execute(select(Alert).where(Alert.kind == "outbound-failed")).scalars().all()
        assert sorted(a.detail["message_id"] for a in alerts) == sorted(r.message_id for r in rows)


def test_killed_before_data_is_sent_again_once(store, smtp_server, tmp_path):
    """GIVEN a sender process killed (SIGKILL) after the SMTP server accepted the envelope of the
    stage 3 notification and before DATA WHEN the tick runs again THEN the notification, which no
    server can have accepted, is queued again and sent — exactly one copy arrives — with no alert."""
    oldham_stage2_escalated(store)
    settings = settings_for(tmp_path, smtp_server)
    _run_child_until(tmp_path, smtp_server, "before-data", "envelope accepted")
    assert smtp_server.messages == []
    report = run_tick(store, settings, REGISTRY, NOW + timedelta(minutes=1), sender_for(smtp_server))
    assert report.unconfirmed == [] and sorted(s["kind"] for s in report.sent) == ["acknowledgement", "notice"]
    routed = _by_recipient(smtp_server.messages)
    assert len(routed[OSCP.lower()]) == 1 and len(routed[PRACTITIONER]) == 1
    with store.transaction() as tx:
        assert tx.session.execute(select(Alert)).scalars().all() == []
        assert {r.state for r in tx.session.execute(select(Outbound)).scalars()} == {"sent"}


def test_two_ticks_at_once_send_each_message_once(store, smtp_server, tmp_path):
    """GIVEN the Oldham case WHEN two tick processes run at the same moment, then one more
    THEN each message is written once and arrives once: the acknowledgement and the notification."""
    oldham_stage2_escalated(store)
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    children = [
        subprocess.Popen(
            [sys.executable, str(script), str(tmp_path), str(smtp_server.port), NOW.isoformat(), "plain"],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(2)
    ]
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    run_tick(store, settings_for(tmp_path, smtp_server), REGISTRY, NOW + timedelta(minutes=1), sender_for(smtp_server))
    ids = [_parse(m.raw)["Message-ID"] for m in smtp_server.messages]
    assert len(ids) == 2 and len(set(ids)) == 2
    with store.transaction() as tx:
        rows = tx.session.execute(select(Outbound)).scalars().all()
        assert len(rows) == 2 and {r.state for r in rows} == {"sent"}
        assert len(tx.session.execute(select(Document)).scalars().all()) == 2


def test_hostile_values_from_mail_travel_as_text_through_every_document(store, smtp_server, tmp_path, listener):
    """GIVEN a case whose child name, sender name, subject and form fields hold markup that would
    embed /etc/passwd, load from a listening port, or run template code WHEN the tick sends its
    acknowledgement, stage 3 notification and (after escalation) Resolution Notice THEN every PDF
    embeds no file, nothing connects to the port, and the values print as typed."""
    from pypdf import PdfReader

    attach = "<link rel=attachment href=file:///etc/passwd>"
    image = f"<img src=http://127.0.0.1:{listener.port}/>"
    template = "{{ cycler.__init__.__globals__ }}"
    oldham = REGISTRY.get("oldham")
    stage4_at = SUMMARY_AT + timedelta(days=1)
    with store.transaction() as tx:
        case = tx.create_case(oldham, SUMMARY_AT - timedelta(days=7), child_name=f"Zoë {attach}")
        tx.record_stage_summary(case, oldham, 2, "escalated", SUMMARY_AT)
        recorded(tx, case, SUMMARY_AT, sender_name=f"Dev {template}", subject=f"Stage 2 Summary {image}")
    # The stage 3 notification goes at the tick after stage 3 is entered (one the case had moved past
    # would be superseded, not sent).
    run_tick(store, settings_for(tmp_path, smtp_server), REGISTRY, SUMMARY_AT + timedelta(minutes=1), sender_for(smtp_server))
    with store.transaction() as tx:
        case = tx.case_by_ref(case.ref)
        tx.add_event(case, "form-read", stage4_at, detail={"kind": "resolution-notice", "filename": "rn.docx",
                                                          "fields": {"outcome_summary": f"{image} {template}"}})
        tx.record_stage_summary(case, oldham, 3, "escalated", stage4_at)
    run_tick(store, settings_for(tmp_path, smtp_server), REGISTRY, stage4_at + timedelta(minutes=1), sender_for(smtp_server))
    pdfs = [
        part.get_content()
        for message in smtp_server.messages
        for part in _parse(message.raw).iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]
    assert len(pdfs) == 3  # the acknowledgement, the stage 3 notification, the Resolution Notice
    text = ""
    for index, pdf in enumerate(pdfs):
        assert len(PdfReader(BytesIO(pdf)).attachments) == 0
        text += pdf_text(pdf, tmp_path, f"{index}.pdf")
    assert listener.connections == 0
    for value in (attach, image, template):
        assert value in text


def test_gloucestershire_stage4_account_reaches_the_business_unit_with_the_history(store, smtp_server, tmp_path):
    """GIVEN a Gloucestershire case escalated stage by stage to stage 4 (stage 3 entered Wed 4 Nov, stage 4
    Mon 9 Nov) WHEN the tick first runs on Mon 9 Nov THEN the business unit gets the stage 4 full account,
    twice: its own, and one for the attention of the agency representatives on the GSCP Executive (no
    contact configured for them); the stage 3 record, for a stage the case had moved past before it could
    go, is recorded in the outbox as superseded and never sent, with the audit saying why; the account's
    PDF tells each stage's summary and entry in order."""
    glos = REGISTRY.get("gloucestershire")
    with store.transaction() as tx:
        case = tx.create_case(glos, local(2026, 11, 2, 9), child_name="Rhys Vaughan")
        for stage, day in ((1, 2), (2, 4), (3, 9)):
            tx.record_stage_summary(case, glos, stage, "escalated", local(2026, 11, day, 15))
        ref = case.ref
    report = run_tick(store, settings_for(tmp_path, smtp_server), REGISTRY, local(2026, 11, 9, 15, 5), sender_for(smtp_server))
    record_key = f"notice:{ref}:3:business-unit-record:gscp-business-unit"
    assert [e["key"] for e in report.superseded] == [record_key]
    with store.transaction() as tx:
        row = tx.session.execute(select(Outbound).where(Outbound.idempotency_key == record_key)).scalar_one()
        assert (row.state, row.sent_at, row.recipients) == ("superseded", None, [BUSINESS_UNIT])
        assert "moved past stage 3 (stage 4 recorded Mon 09 Nov 2026 15:00)" in row.last_error
    again = run_tick(store, settings_for(tmp_path, smtp_server), REGISTRY, local(2026, 11, 9, 15, 10), sender_for(smtp_server))
    assert again.superseded == [] and again.queued == []
    to_unit = [_parse(m.raw) for m in smtp_server.messages if m.rcpt_tos == (BUSINESS_UNIT,)]
    subjects = sorted(m["Subject"] for m in to_unit)
    assert subjects == [
        f"Stage 4 escalation: full account of the dispute and resolution attempts {case_token(store, ref)}",
        f"Stage 4 escalation: full account of the dispute and resolution attempts {case_token(store, ref)}",
    ]
    account = next(m for m in to_unit if m["Subject"].startswith("Stage 4"))
    (pdf,) = [part.get_content() for part in account.iter_attachments()]
    qpdf_check(pdf, tmp_path)
    text = pdf_text(pdf, tmp_path)
    assert "History of the dispute and resolution attempts" in text and "Rhys Vaughan" in text
    positions = [text.index(f"Stage {n} summary received (outcome: escalated)") for n in (1, 2, 3)]
    assert positions == sorted(positions)


def test_a_message_that_cannot_be_built_raises_one_alert_and_the_rest_still_go(store, smtp_server, tmp_path):
    """GIVEN a recorded stage 2 summary whose sender address mail cannot go to ("two@at@signs")
    WHEN the tick runs twice THEN the acknowledgement is reported and alerted once (naming its key,
    not silently dropped), and the stage 3 notification to the business unit is still sent."""
    ref = oldham_stage2_escalated(store, sender="two@at@signs.example")
    settings = settings_for(tmp_path, smtp_server)
    first = run_tick(store, settings, REGISTRY, NOW, sender_for(smtp_server))
    second = run_tick(store, settings, REGISTRY, NOW + timedelta(minutes=1), sender_for(smtp_server))
    (failed_key,) = [e["key"] for e in first.skipped if e["unsendable"]]
    assert failed_key.startswith("ack:") and [e["key"] for e in second.skipped if e["unsendable"]] == [failed_key]
    with store.transaction() as tx:
        alerts = list(tx.session.execute(select(Alert).where(Alert.kind == "outbound-unpreparable")).scalars())
    assert [(a.detail["key"], a.detail["case"]) for a in alerts] == [(failed_key, ref)]
    assert [m.rcpt_tos for m in smtp_server.messages] == [(OSCP,)]
