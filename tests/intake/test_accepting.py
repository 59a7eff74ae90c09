"""Accepting mail from someone not on the case, through the real watcher: what it says is recorded
as a party's would be, once, with who accepted it and why (``intake.accepting``); and at its edges:
its files, two held messages, undated mail, two people accepting at once, what the message then says."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from resdesk.cases import AuditEntry, Document, Message
from resdesk.cases.timeline import MESSAGE_ACCEPTED, MESSAGE_RECORDED
from resdesk.errors import UsageError
from resdesk.intake.accepting import accept
from resdesk.intake.recording import CaseRecorder
from tests.intake.mail import summary
from tests.intake.test_authority import STRANGER, Desk, _opened

ACCEPTED_AT = datetime(2026, 12, 15, 15, 30, tzinfo=timezone.utc)
RECEIVED = datetime(2026, 12, 14, 10, 5, tzinfo=timezone.utc)  # the watcher's clock: the mail is dated 10:00


@pytest.fixture
def desk(tmp_path):
    """An Oldham inbox and real watcher on a SQLite case file, checking no sender (as most partnerships start)."""
    desk = Desk(tmp_path, None, clock=lambda: RECEIVED)
    yield desk
    desk.store.close()


def _ledger_id(desk, message_id: str) -> int:
    with desk.store.transaction() as tx:
        return tx.session.execute(select(Message.id).where(Message.message_id == message_id)).scalar_one()


def _accept(desk, ledger_id: int, reason: str = "the school's safeguarding lead chaired the meeting", *, processor=None):
    return accept(desk.store, processor or desk.watcher.processor, ledger_id, ACCEPTED_AT, actor="bu", reason=reason)


def test_accepting_a_strangers_summary_records_it_as_a_partys_and_takes_the_case_off_the_review_list(desk):
    """GIVEN an Oldham case at stage 2 and a "resolved" stage 2 summary naming it from someone not on
    the case (held for review, changing nothing) WHEN the business unit accepts the message, saying why
    THEN the case is resolved as of the summary's own date, the sender is a party, the message is
    recorded and owed its acknowledgement, the case leaves the review list, the message no longer awaits
    acceptance, and a ``message-accepted``
    event and audit entry name who accepted it and why."""
    ref = _opened(desk)
    desk.receive(summary(2, "resolved", n=2, sender=STRANGER, subject=f"Stage 2 Summary [{ref}]"))
    assert desk.case(ref)["status"] == "needs-review"
    ledger_id = _ledger_id(desk, "<summary-2-2@police.example>")
    assert {m["ledger_id"]: m["awaiting_acceptance"] for m in desk.case(ref)["messages"]}[ledger_id] is True

    accepted = _accept(desk, ledger_id)

    after = desk.case(ref)
    assert not any(m["awaiting_acceptance"] for m in after["messages"])
    assert (accepted.case_ref, accepted.status) == (ref, "resolved")
    assert after["status"] == "resolved" and after["review_reason"] is None
    assert after["resolved_at"].startswith("2026-12-14T10:00")  # when the summary was sent, not when accepted
    assert "eve.marsh@school.example" in [p["email"].lower() for p in after["parties"]]
    [recorded] = [e for e in after["events"] if e["kind"] == MESSAGE_RECORDED and e["message_id"] == "<summary-2-2@police.example>"]
    assert recorded["detail"]["acknowledge"] is True and recorded["detail"]["outcome"] == "resolved"
    [event] = [e for e in after["events"] if e["kind"] == MESSAGE_ACCEPTED]
    assert event["detail"]["by"] == "bu" and event["detail"]["ledger_id"] == ledger_id
    assert event["detail"]["reason"] == "the school's safeguarding lead chaired the meeting"
    assert event["detail"]["review_cleared"] is True
    with desk.store.transaction() as tx:
        [entry] = tx.session.execute(select(AuditEntry).where(AuditEntry.action == MESSAGE_ACCEPTED)).scalars()
        assert entry.actor == "bu" and entry.case_ref == ref


def test_a_message_is_accepted_once_and_only_if_it_was_held(desk):
    """GIVEN a stranger's summary accepted on its case, and the party's own first summary WHEN someone
    accepts the stranger's message again, accepts the party's message, accepts a ledger id the case file
    does not hold, or accepts without a reason THEN each is refused saying why, and the case's events
    are as they were."""
    ref = _opened(desk)
    desk.receive(summary(2, "actions agreed", n=2, sender=STRANGER, subject=f"Stage 2 Summary [{ref}]"))
    held = _ledger_id(desk, "<summary-2-2@police.example>")
    with pytest.raises(UsageError, match="needs a reason|reason"):
        _accept(desk, held, reason="  ")
    _accept(desk, held)
    before = desk.case(ref)["events"]
    for ledger_id, refusal in (
        (held, "already accepted on .* by bu"),
        (_ledger_id(desk, "<summary-1-1@police.example>"), "not filed as from someone not on a case"),
        (9999, "no received message 9999"),
    ):
        with pytest.raises(UsageError, match=refusal):
            _accept(desk, ledger_id)
    assert desk.case(ref)["events"] == before


def test_accepting_keeps_the_case_on_the_review_list_for_another_reason(desk):
    """GIVEN a case put on the review list by a stranger's summary, and then by a person for another
    reason (a later flag) WHEN the stranger's message is accepted THEN what it says is recorded but the
    case stays on the review list with the later reason: accepting answers only its own flag."""
    ref = _opened(desk)
    desk.receive(summary(2, "actions agreed", n=2, sender=STRANGER, subject=f"Stage 2 Summary [{ref}]"))
    with desk.store.transaction() as tx:
        tx.flag_for_review(tx.require_case(ref), "the dates in the chronology disagree", ACCEPTED_AT)
    _accept(desk, _ledger_id(desk, "<summary-2-2@police.example>"))
    after = desk.case(ref)
    assert after["status"] == "needs-review" and after["review_reason"] == "the dates in the chronology disagree"
    [event] = [e for e in after["events"] if e["kind"] == MESSAGE_ACCEPTED]
    assert event["detail"]["review_cleared"] is False


def test_a_party_of_the_accepted_message_may_then_change_the_case_by_mail(desk):
    """GIVEN a stranger's "actions agreed" summary accepted on a stage 2 case WHEN the same person later
    sends "resolved" naming the case THEN it resolves the case: accepting made them a party."""
    ref = _opened(desk)
    desk.receive(summary(2, "actions agreed", n=2, sender=STRANGER, subject=f"Stage 2 Summary [{ref}]"))
    _accept(desk, _ledger_id(desk, "<summary-2-2@police.example>"))
    assert desk.case(ref)["status"] == "open"
    desk.receive(summary(2, "resolved", n=3, sender=STRANGER, subject=f"Stage 2 Summary [{ref}]"))
    assert desk.case(ref)["status"] == "resolved"


OTHER_STRANGER = "Tom Reed <tom.reed@school.example>"


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
