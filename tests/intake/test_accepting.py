"""Accepting mail from someone not on the case, through the real watcher: what it says is recorded
as a party's would be, once, with who accepted it and why (``intake.accepting``)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from resdesk.cases import AuditEntry, Message
from resdesk.cases.timeline import MESSAGE_ACCEPTED, MESSAGE_RECORDED
from resdesk.errors import UsageError
from resdesk.intake.accepting import accept
from tests.intake.mail import summary
from tests.intake.test_authority import STRANGER, Desk, _opened

ACCEPTED_AT = datetime(2026, 12, 15, 15, 30, tzinfo=timezone.utc)


@pytest.fixture
def desk(tmp_path):
    """An Oldham inbox and real watcher on a SQLite case file, checking no sender (as most partnerships start)."""
    desk = Desk(tmp_path, None)
    yield desk
    desk.store.close()


def _ledger_id(desk, message_id: str) -> int:
    with desk.store.transaction() as tx:
        return tx.session.execute(select(Message.id).where(Message.message_id == message_id)).scalar_one()


def _accept(desk, ledger_id: int, reason: str = "the school's safeguarding lead chaired the meeting"):
    return accept(desk.store, desk.watcher.processor, ledger_id, ACCEPTED_AT, actor="bu", reason=reason)


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
