"""Accepting a message from someone not on the case (``intake.accepting``) at its edges: its files,
two held messages, undated mail, two people accepting at once, what the message then says."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from resdesk.cases import Document, Message
from resdesk.cases.timeline import MESSAGE_ACCEPTED, MESSAGE_RECORDED
from resdesk.errors import UsageError
from resdesk.intake.accepting import accept
from resdesk.intake.recording import CaseRecorder
from tests.intake.mail import summary
from tests.intake.test_authority import STRANGER, Desk, _opened

ACCEPTED_AT = datetime(2026, 12, 15, 15, 30, tzinfo=timezone.utc)
RECEIVED = datetime(2026, 12, 14, 10, 5, tzinfo=timezone.utc)  # the watcher's clock: the mail is dated 10:00
OTHER_STRANGER = "Tom Reed <tom.reed@school.example>"


@pytest.fixture
def desk(tmp_path):
    desk = Desk(tmp_path, None, clock=lambda: RECEIVED)
    yield desk
    desk.store.close()


def _ledger_id(desk, message_id: str) -> int:
    with desk.store.transaction() as tx:
        return tx.session.execute(select(Message.id).where(Message.message_id == message_id)).scalar_one()


def _accept(desk, ledger_id: int, *, at: datetime = ACCEPTED_AT, processor=None):
    return accept(desk.store, processor or desk.watcher.processor, ledger_id, at, actor="bu", reason="she chairs it")


def _with_attachment(raw: bytes, filename: str, data: bytes) -> bytes:
    from email import message_from_bytes, policy

    msg = message_from_bytes(raw, policy=policy.default)
    msg.add_attachment(data, maintype="text", subtype="plain", filename=filename)
    return msg.as_bytes()


def test_an_accepted_messages_attachment_is_filed_on_the_case_once(desk):
    """GIVEN a stranger's stage 2 summary carrying a chronology (a file kept as a document), filed on the
    case from someone not on it (its files kept) WHEN the business unit accepts it THEN the case holds the
    chronology once, not once for the filing and again for the acceptance."""
    ref = _opened(desk)
    raw = _with_attachment(summary(2, "actions agreed", n=2, sender=STRANGER, subject=f"Stage 2 Summary [{ref}]"),
                           "chronology.txt", b"12 Dec: strategy meeting\n")
    desk.receive(raw)
    _accept(desk, _ledger_id(desk, "<summary-2-2@police.example>"))
    with desk.store.transaction() as tx:
        names = tx.session.execute(select(Document.filename).where(Document.filename == "chronology.txt")).scalars().all()
    assert names == ["chronology.txt"]


def test_accepting_the_later_of_two_held_messages_leaves_the_case_on_the_review_list(desk):
    """GIVEN two messages from two people not on the case, both held for review (the case's review reason is
    the later one's) WHEN the business unit accepts the later one only THEN the case stays on the review list:
    the earlier message still awaits acceptance (the module promises to clear the list only when the case
    was on it "for this message alone")."""
    ref = _opened(desk)
    desk.receive(summary(2, "actions agreed", n=2, sender=STRANGER, subject=f"Stage 2 Summary [{ref}]"))
    desk.receive(summary(2, "actions agreed", n=3, sender=OTHER_STRANGER, subject=f"Stage 2 Summary [{ref}]"))
    earlier, later = (_ledger_id(desk, f"<summary-2-{n}@police.example>") for n in (2, 3))
    _accept(desk, later)
    after = desk.case(ref)
    assert {m["ledger_id"] for m in after["messages"] if m["awaiting_acceptance"]} == {earlier}
    assert after["status"] == "needs-review", "a message still awaits acceptance, yet the case left the review list"


def test_a_message_without_a_date_is_recorded_as_of_when_it_was_received_not_when_accepted(desk):
    """GIVEN a stranger's "resolved" summary with no Date header, received on 14 December (the watcher's clock)
    WHEN it is accepted on 15 December THEN the case is resolved as of when the message was received, as the
    module promises ("the stage clock counts from when it was sent"), not as of the acceptance."""
    ref = _opened(desk)
    msg = EmailMessage()
    msg["From"] = STRANGER
    msg["To"] = "escalations@partnership.example"
    msg["Subject"] = f"Stage 2 Summary [{ref}]"
    msg["Message-ID"] = "<undated@school.example>"
    msg.set_content("Summary of our stage 2 discussion about child J.S.\nOutcome: resolved\n")
    desk.receive(msg.as_bytes())
    _accept(desk, _ledger_id(desk, "<undated@school.example>"))
    after = desk.case(ref)
    assert after["status"] == "resolved"
    assert after["resolved_at"].startswith("2026-12-14"), after["resolved_at"]


class _RecorderAtTheSameMoment(CaseRecorder):
    """The real recorder, holding each caller at a barrier first, so two acceptances record at once
    (only this product's own interface is wrapped)."""

    def __init__(self, inner: CaseRecorder, barrier: threading.Barrier):
        super().__init__(inner.protocol, inner.policy)
        self.barrier = barrier

    def record(self, *args, **kwargs):
        try:
            self.barrier.wait(timeout=5)  # SQLite's BEGIN IMMEDIATE lets only one in: the wait ends
        except threading.BrokenBarrierError:
            pass
        return super().record(*args, **kwargs)


def test_two_people_accepting_the_same_message_at_once_record_it_once(tmp_path, store):
    """GIVEN a stranger's summary held for review WHEN two people accept it at the same moment (two
    workspace threads) THEN it is recorded and accepted once and the other is refused ("already accepted"):
    never two ``message-recorded`` events and two acknowledgements owed."""
    desk = Desk.__new__(Desk)
    from tests.intake.test_partnerships import Partnership
    from resdesk.intake.process import IntakePolicy

    desk.store = store
    Partnership.__init__(desk, tmp_path, store, "oldham", IntakePolicy(
        frozenset({"escalations@partnership.example"}), ("police.example", "school.example"), None, 1_000_000))
    ref = _opened(desk)
    desk.receive(summary(2, "actions agreed", n=2, sender=STRANGER, subject=f"Stage 2 Summary [{ref}]"))
    ledger_id = _ledger_id(desk, "<summary-2-2@police.example>")
    processor = desk.watcher.processor
    processor.recorder = _RecorderAtTheSameMoment(processor.recorder, threading.Barrier(2))
    outcomes: list[object] = []

    def one() -> None:
        try:
            outcomes.append(_accept(desk, ledger_id, processor=processor))
        except UsageError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    after = desk.case(ref)
    recorded = [e for e in after["events"] if e["kind"] == MESSAGE_RECORDED and e["message_id"] == "<summary-2-2@police.example>"]
    assert len([e for e in after["events"] if e["kind"] == MESSAGE_ACCEPTED]) == 1
    assert len(recorded) == 1
    assert sum(isinstance(o, UsageError) for o in outcomes) == 1


def test_once_accepted_the_message_no_longer_says_it_changed_nothing(desk):
    """GIVEN a stranger's summary held for review WHEN it is accepted THEN the case's message list (what the
    case page shows under the message) no longer says it "changed nothing" and that the case is on the review
    list: it changed the case, and the case left the list."""
    ref = _opened(desk)
    desk.receive(summary(2, "resolved", n=2, sender=STRANGER, subject=f"Stage 2 Summary [{ref}]"))
    ledger_id = _ledger_id(desk, "<summary-2-2@police.example>")
    _accept(desk, ledger_id)
    [message] = [m for m in desk.case(ref)["messages"] if m["ledger_id"] == ledger_id]
    assert "changed nothing" not in (message.get("reason") or ""), message.get("reason")
