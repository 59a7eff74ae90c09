"""The watcher and its processor on a real Maildir and a real SQLite case file."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest
from sqlalchemy import select

from resdesk.cases import leases, open_store
from resdesk.cases.models import Event, Message
from resdesk.intake.ledger import Ledger
from resdesk.intake.process import IntakePolicy, IntakeProcessor
from resdesk.intake.sources import MaildirSource
from resdesk.intake.watch import Watcher
from resdesk.protocols import default_registry
from tests.intake.mail import newsletter, summary

OLDHAM = default_registry().get("oldham")


class Desk:
    """A Maildir inbox, a case file and a watcher on them."""

    def __init__(self, root: Path, *, allowed: tuple[str, ...] = (), processor=None):
        self.maildir = root / "maildir"
        self.inbox = mailbox.Maildir(self.maildir, create=True)
        self.store = open_store(f"sqlite:///{root / 'case.sqlite3'}", root / "archive")
        self.ledger = Ledger(self.store)
        self.source = MaildirSource(self.maildir)
        policy = IntakePolicy(frozenset({"escalations@partnership.example"}), allowed, None, 1_000_000)
        self.processor = processor or IntakeProcessor(self.store, self.ledger, OLDHAM, policy)
        self.watcher = Watcher(
            self.source, self.store, self.processor,
            processed_folder="Resdesk/Processed", quarantine_folder="Resdesk/Quarantine",
            max_bytes=1_000_000, ledger=self.ledger,
        )

    def deliver(self, raw: bytes) -> None:
        self.inbox.add(raw)

    def drain(self):
        assert self.watcher.acquire()
        try:
            return self.watcher.drain()
        finally:
            self.watcher.release()

    def folder_count(self, folder: str) -> int:
        path = self.maildir if folder == "INBOX" else self.maildir / ("." + folder.replace("/", "."))
        return sum(1 for sub in ("new", "cur") if (path / sub).is_dir() for _ in (path / sub).iterdir())

    def ledger_rows(self) -> list[Message]:
        with self.store.transaction() as tx:
            return list(tx.session.execute(select(Message).order_by(Message.id)).scalars())

    def events(self, kind: str) -> list[Event]:
        with self.store.transaction() as tx:
            return list(tx.session.execute(select(Event).where(Event.kind == kind).order_by(Event.id)).scalars())

    def cases(self):
        with self.store.transaction() as tx:
            return [(c.ref, c.stage, c.status) for c in tx.all_cases()]


@pytest.fixture
def desk(tmp_path) -> Desk:
    desk = Desk(tmp_path)
    yield desk
    desk.store.close()


def test_escalated_summary_opens_a_case_at_the_next_stage_and_is_filed(desk):
    """GIVEN an Oldham stage 1 summary whose outcome is escalated
    WHEN the watcher drains THEN a case is opened at stage 2, the message is archived with its hash,
    recorded once for acknowledgement, and moved to Processed."""
    desk.deliver(summary(1, "escalated"))
    report = desk.drain()
    assert report.filed["done"] == 1
    assert desk.cases() == [("OLD-2026-0001", 2, "open")]
    (row,) = desk.ledger_rows()
    assert row.state == "done" and row.sha256 and Path(row.archive_path).is_file()
    (recorded,) = desk.events("message-recorded")
    assert recorded.detail["classification"] == "stage-summary"
    assert recorded.detail["acknowledge"] is True
    assert recorded.detail["sender"] == "dana.whitfield@police.example"
    assert recorded.detail["outcome"] == "escalated"
    assert (desk.folder_count("INBOX"), desk.folder_count("Resdesk/Processed")) == (0, 1)


def test_a_reply_on_the_thread_joins_the_case(desk):
    """GIVEN a stage 1 summary and a stage 2 summary replying to it WHEN drained THEN both are on one case,
    which is resolved by the second."""
    desk.deliver(summary(1, "escalated"))
    desk.deliver(summary(2, "resolved", n=2, subject="RE: Escalation and Resolution Protocol: Stage Two Summary",
                         in_reply_to="<summary-1-1@police.example>"))
    desk.drain()
    assert desk.cases() == [("OLD-2026-0001", 2, "resolved")]


def test_mail_that_is_not_protocol_mail_is_left_where_it_is(desk):
    """GIVEN a newsletter that mentions the protocol WHEN drained twice THEN it stays in the inbox, handled once."""
    desk.deliver(newsletter())
    assert desk.drain().filed["ignored"] == 1
    assert desk.drain().seen == 0
    assert desk.folder_count("INBOX") == 1
    assert desk.cases() == []


def test_an_unreadable_outcome_flags_the_case_for_review(desk):
    """GIVEN a summary that states no outcome WHEN drained THEN the case needs review, nothing is guessed."""
    desk.deliver(summary(2, None))
    desk.drain()
    assert desk.cases() == [("OLD-2026-0001", 2, "needs-review")]


def test_spoofed_sender_is_quarantined_with_a_reason(desk):
    """GIVEN a summary whose display name shows another address WHEN drained
    THEN it is quarantined saying so, and no case is opened."""
    desk.deliver(summary(1, "escalated", sender='"dana.whitfield@police.example" <attacker@evil.example>'))
    assert desk.drain().filed["quarantined"] == 1
    (row,) = desk.ledger_rows()
    assert "display name shows dana.whitfield@police.example" in row.reason
    assert desk.folder_count("Resdesk/Quarantine") == 1
    assert desk.cases() == []


def test_sender_outside_the_allowed_domains_is_quarantined(tmp_path):
    """GIVEN allowed sender domains WHEN a summary comes from elsewhere THEN it is quarantined naming the domain."""
    desk = Desk(tmp_path, allowed=("nhs.example",))
    desk.deliver(summary(1, "escalated"))
    desk.drain()
    (row,) = desk.ledger_rows()
    assert row.state == "quarantined"
    assert "police.example is not an allowed agency domain" in row.reason


MALFORMED = {
    "bad boundary": (
        b"From: Dana <dana@police.example>\r\nTo: escalations@partnership.example\r\n"
        b"Subject: Escalation & Resolution Protocol: Stage 1 Summary\r\nMessage-ID: <bad-1@police.example>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n"
        b"--ABC\r\nContent-Type: text/plain\r\n\r\nOutcome: escalated\r\n--ABC--\r\n"
    ),
}


def test_malformed_mime_is_quarantined_while_other_mail_flows(desk):
    """GIVEN malformed protocol mail among good mail WHEN drained
    THEN each malformed message is quarantined with a reason and the good mail is recorded."""
    desk.deliver(summary(1, "escalated"))
    for raw in MALFORMED.values():
        desk.deliver(raw)
    desk.deliver(summary(1, "resolved", n=9, sender="Sam <sam@nhs.example>"))
    report = desk.drain()
    assert report.filed["done"] == 2
    quarantined = [r for r in desk.ledger_rows() if r.state == "quarantined"]
    assert len(quarantined) == len(MALFORMED)
    for row in quarantined:
        assert row.reason and "ask the sender" in row.reason


class FailsOn:
    """Our own processor interface, failing on messages whose bytes contain a marker."""

    def __init__(self, inner, marker: bytes):
        self.inner = inner
        self.marker = marker
        self.calls = 0

    def process(self, fetched, claim):
        if self.marker in (fetched.raw or b""):
            self.calls += 1
            raise RuntimeError("the disk was full")
        return self.inner.process(fetched, claim)

    def quarantine(self, fetched, claim, reason):
        return self.inner.quarantine(fetched, claim, reason)


def test_a_message_that_keeps_failing_is_quarantined_after_bounded_retries(tmp_path):
    """GIVEN a message whose processing keeps failing WHEN the watcher runs once
    THEN it is retried, then quarantined with the failures as the reason; other mail is recorded."""
    desk = Desk(tmp_path)
    desk.processor = desk.watcher.processor = FailsOn(desk.processor, b"Stage 3")
    desk.deliver(summary(3, "escalated"))
    desk.deliver(summary(1, "escalated", n=2))
    desk.watcher.run(once=True)
    assert desk.processor.calls == 3
    states = {r.subject: (r.state, r.reason) for r in desk.ledger_rows()}
    assert [r.state for r in desk.ledger_rows()].count("done") == 1
    quarantined = [r for r in desk.ledger_rows() if r.state == "quarantined"]
    assert len(quarantined) == 1 and "failed 3 times: RuntimeError: the disk was full" in quarantined[0].reason, states
    assert desk.folder_count("Resdesk/Quarantine") == 1


class MoveFailsOnce:
    """Our own mail-source interface around a real Maildir source: the first move is lost, as in a crash."""

    def __init__(self, inner):
        self.inner = inner
        self.account, self.folder = inner.account, inner.folder
        self.failed = False

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def move_many(self, refs, destination):
        if not self.failed:
            self.failed = True
            raise ConnectionError("connection lost")
        return self.inner.move_many(refs, destination)


def test_a_move_owed_after_a_crash_is_filed_without_recording_twice(desk):
    """GIVEN a message recorded but not moved (the watcher stopped in between)
    WHEN the next drain runs THEN the message is filed, and recorded only once."""
    desk.watcher.source = MoveFailsOnce(desk.source)
    desk.deliver(summary(1, "escalated"))
    assert desk.watcher.acquire()
    with pytest.raises(ConnectionError):
        desk.watcher.drain()
    desk.watcher.release()
    report = desk.drain()
    assert report.moved_late == 1 and report.seen == 0
    assert len(desk.events("message-recorded")) == 1
    assert desk.folder_count("Resdesk/Processed") == 1


def test_sigterm_stops_the_watcher_cleanly_and_frees_the_mailbox(tmp_path):
    """GIVEN `resdesk watch` idling on a Maildir after filing its mail WHEN it gets SIGTERM
    THEN it exits with status 0, the mail it handled is filed, and its lease is released for the next watcher."""
    import os
    import signal
    import subprocess
    import sys
    import time

    maildir = tmp_path / "maildir"
    mailbox.Maildir(maildir, create=True).add(summary(1, "escalated"))
    env = dict(
        os.environ,
        RESDESK_MAILBOX__KIND="maildir",
        RESDESK_MAILBOX__PATH=str(maildir),
        RESDESK_STORAGE__DATABASE=f"sqlite:///{tmp_path / 'case.sqlite3'}",
        RESDESK_STORAGE__ARCHIVE=str(tmp_path / "archive"),
        RESDESK_SMTP__ENABLED="false",
    )
    root = Path(__file__).resolve().parents[2]
    with open(tmp_path / "watch.log", "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "resdesk", "watch"], cwd=root, env=env, stdout=log, stderr=log)
        store = open_store(f"sqlite:///{tmp_path / 'case.sqlite3'}", tmp_path / "archive")
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not (maildir / ".Resdesk.Processed" / "new").exists():
                time.sleep(0.1)
            time.sleep(1.0)  # idling now
            lease = f"mailbox:maildir:{maildir}:INBOX"
            assert leases.holder_of(store, lease) is not None
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0, (tmp_path / "watch.log").read_text()
            assert leases.holder_of(store, lease) is None
            assert len(list((maildir / ".Resdesk.Processed" / "new").iterdir())) == 1
        finally:
            if process.poll() is None:
                process.kill()
            store.close()


def _summary_with_form(form: bytes) -> bytes:
    from email.message import EmailMessage

    mail = EmailMessage()
    mail["From"] = "Sam Patel <sam.patel@council.example>"
    mail["To"] = "escalations@partnership.example"
    mail["Subject"] = "Escalation & Resolution Protocol: Stage 2 Summary"
    mail["Date"] = "Mon, 14 Dec 2026 10:00:00 +0000"
    mail["Message-ID"] = "<form-area@council.example>"
    mail.set_content("Please find our stage 2 summary attached.\n\nResponding agency: Oldham Children's Social Care\n")
    mail.add_attachment(form, maintype="application",
                        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                        filename="stage-2-summary.docx")
    return mail.as_bytes()


def test_area_of_disagreement_and_agencies_are_recorded_from_a_form_and_labelled_lines(desk):
    """GIVEN a stage 2 summary whose filled Word form gives the area of disagreement (plans) and whose
    body names the responding agency on a labelled line WHEN the watcher drains THEN the case holds both
    as case facts, each with its source and a fact-set event in its history."""
    from resdesk.cases import facts_of

    form = (Path(__file__).resolve().parents[2] / "samples" / "forms" / "stage-summary" / "ours.docx").read_bytes()
    desk.deliver(_summary_with_form(form))
    assert desk.drain().filed["done"] == 1
    with desk.store.transaction() as tx:
        (case,) = tx.all_cases()
        facts = facts_of(case)
        assert (facts["area_of_disagreement"].value, facts["area_of_disagreement"].source) == ("plans", "form")
        assert (facts["responding_agency"].value, facts["responding_agency"].source) == (
            "Oldham Children's Social Care", "message")
        history = {e.detail["name"] for e in case.events if e.kind == "fact-set"}
    assert {"area_of_disagreement", "responding_agency"} <= history
