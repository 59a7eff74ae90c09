"""Completions held for the transaction and written together: a batch whose claim was lost writes
nothing, a savepoint rolled back loses only its own, and the audit entries they make verify."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from resdesk.cases.audit import verify_chain
from resdesk.cases.models import AuditEntry, Event, Message
from resdesk.cases.verify import verify_case
from resdesk.errors import StoreError
from resdesk.intake.ledger import Ledger, LedgerKey
from resdesk.protocols import default_registry

T0 = datetime(2026, 4, 14, 10, 0, tzinfo=timezone.utc)
OLDHAM = default_registry().get("oldham")


@pytest.fixture
def ledger(store) -> Ledger:
    return Ledger(store, claim_timeout=timedelta(minutes=5), max_attempts=3)


def _archived(store, uid: str) -> tuple[str, str]:
    """(SHA-256, path) of message ``uid``'s raw bytes, archived (the same path each time)."""
    raw = f"Message-ID: <m{uid}@agency.example>\r\nSubject: summary {uid}\r\n\r\nStage 1 summary.\r\n"
    sha256, path = store.archive_message(raw.encode())
    return sha256, str(path)


def _claim_batch(ledger: Ledger, uids: range, worker: str = "watcher-1"):
    """Claims on archived messages (content hash as archived) with their Message-IDs."""
    wanted = []
    for uid in uids:
        sha256, _ = _archived(ledger.store, str(uid))
        wanted.append((LedgerKey("inbox@partnership.example", "INBOX", "7", str(uid)), sha256,
                       {"message_id": f"<m{uid}@agency.example>"}))
    return ledger.claim_many(wanted, worker, now=T0)


def _rows(store) -> dict[str, Message]:
    with store.transaction() as tx:
        return {row.uid: row for row in tx.session.execute(select(Message)).scalars()}


def _actions(store) -> list[str]:
    with store.transaction() as tx:
        return list(tx.session.execute(select(AuditEntry.action).order_by(AuditEntry.seq)).scalars())


def _record_and_complete(tx, ledger: Ledger, claims) -> None:
    """What the watcher does for a batch: a case with an event per message, each claim completed."""
    case = tx.create_case(OLDHAM, T0)
    for claim in claims:
        tx.record_stage_summary(case, OLDHAM, 1, "escalated", T0, ledger_id=claim.ledger_id,
                                message_id=claim.message_id)
        _, path = _archived(ledger.store, claim.key.uid)
        ledger.complete(tx, claim, "done", None, case.id, archive_path=path)


def test_completions_written_together_change_every_row_and_audit_what_was_claimed(ledger, store):
    """GIVEN a batch of four claims WHEN all are completed in one transaction (one executemany, whose
    summed rowcount the claim check relies on) THEN every row is done, and each audit entry names the
    ledger row, content hash, Message-ID, attempt and case as claimed, in completion order."""
    assert store.engine.dialect.supports_sane_multi_rowcount
    claims = _claim_batch(ledger, range(1, 5))
    with store.transaction() as tx:
        _record_and_complete(tx, ledger, claims)
    rows = _rows(store)
    assert {uid: (row.state, row.claimed_by) for uid, row in rows.items()} == {
        str(uid): ("done", None) for uid in range(1, 5)}
    with store.transaction() as tx:
        entries = tx.session.execute(
            select(AuditEntry).where(AuditEntry.action == "message-done").order_by(AuditEntry.seq)).scalars().all()
        ref = entries[0].case_ref
    assert [entry.payload["uid"] for entry in entries] == ["1", "2", "3", "4"]
    assert entries[2].payload | {"reason": None} == {
        "ledger_id": rows["3"].id, "account": "inbox@partnership.example", "folder": "INBOX",
        "uidvalidity": "7", "uid": "3", "sha256": _archived(store, "3")[0], "message_id": "<m3@agency.example>",
        "attempts": 1, "reason": None,
    }
    assert {entry.case_ref for entry in entries} == {ref} and ref is not None
    assert verify_chain(store) == (True, None)
    assert verify_case(store, ref).intact


def test_a_batch_with_one_claim_taken_over_meanwhile_writes_nothing(ledger, store):
    """GIVEN three claims by one watcher, one of which another worker took over meanwhile WHEN the
    watcher records and completes all three in one transaction THEN its commit (the before-commit
    hook writing the held completions) fails with StoreError naming the lost message, and nothing of
    the batch is written: no case, no event, no audit entry, the other two still claimed by the watcher."""
    claims = _claim_batch(ledger, range(1, 4))
    assert ledger.claim(claims[1].key, claims[1].sha256, "watcher-2", now=T0 + timedelta(minutes=10))
    audited = _actions(store)
    committing = False
    with pytest.raises(StoreError, match=r"message INBOX/2 by watcher-1 was taken over"):
        with store.transaction() as tx:
            _record_and_complete(tx, ledger, claims)
            committing = True  # nothing read the case file since: the completions are written by the commit
    assert committing
    rows = _rows(store)
    assert [(rows[uid].state, rows[uid].claimed_by) for uid in "13"] == [("claimed", "watcher-1")] * 2
    assert (rows["2"].state, rows["2"].claimed_by, rows["2"].attempts) == ("claimed", "watcher-2", 2)
    with store.transaction() as tx:
        assert tx.all_cases() == [] and tx.session.execute(select(Event)).first() is None
    assert _actions(store) == audited
    assert verify_chain(store) == (True, None)


def test_a_lost_claim_swallowed_mid_transaction_still_refuses_the_commit(ledger, store):
    """GIVEN completions held for two claims, one of them taken over meanwhile WHEN a read writes them
    out and the caller swallows the StoreError THEN the commit raises it again and writes nothing."""
    first, second = _claim_batch(ledger, range(1, 3))
    ledger.claim(second.key, second.sha256, "watcher-2", now=T0 + timedelta(minutes=10))
    with pytest.raises(StoreError, match="INBOX/2"):
        with store.transaction() as tx:
            ledger.complete(tx, first, "ignored", "not protocol mail")
            ledger.complete(tx, second, "ignored", "not protocol mail")
            try:
                tx.all_cases()  # a read: what is held is written, and the claim check fails
            except StoreError:
                pass
    rows = _rows(store)
    assert (rows["1"].state, rows["2"].claimed_by) == ("claimed", "watcher-2")
    assert "message-ignored" not in _actions(store)


def test_completions_in_a_savepoint_rolled_back_are_lost_with_it_only(ledger, store):
    """GIVEN one completion held in the transaction, one in a savepoint that rolls back, one in a
    savepoint that is released, and one in a savepoint whose claim was taken over (its release
    fails and it rolls back) WHEN the transaction commits THEN the first and third are done, the
    others untouched, and the audit chain holds exactly their two entries and verifies."""
    claims = _claim_batch(ledger, range(1, 5))
    ledger.claim(claims[3].key, claims[3].sha256, "watcher-2", now=T0 + timedelta(minutes=10))
    with store.transaction() as tx:
        ledger.complete(tx, claims[0], "ignored", "not protocol mail")
        with pytest.raises(RuntimeError):
            with tx.session.begin_nested():
                ledger.complete(tx, claims[1], "ignored", "not protocol mail")
                raise RuntimeError("the second message's recording failed")
        with tx.session.begin_nested():
            ledger.complete(tx, claims[2], "ignored", "not protocol mail")
        with pytest.raises(StoreError, match="INBOX/4"):
            with tx.session.begin_nested():
                ledger.complete(tx, claims[3], "ignored", "not protocol mail")
    rows = _rows(store)
    assert [rows[uid].state for uid in "1234"] == ["ignored", "claimed", "ignored", "claimed"]
    assert (rows["2"].claimed_by, rows["4"].claimed_by) == ("watcher-1", "watcher-2")
    with store.transaction() as tx:
        entries = tx.session.execute(
            select(AuditEntry).where(AuditEntry.action == "message-ignored").order_by(AuditEntry.seq)).scalars().all()
    assert [entry.payload["uid"] for entry in entries] == ["1", "3"]
    assert verify_chain(store) == (True, None)


def test_a_completion_is_read_back_in_its_own_transaction(ledger, store):
    """GIVEN a claim completed (held, not yet written) WHEN the same transaction reads its ledger row
    THEN it finds the row completed, case and all."""
    (claim,) = _claim_batch(ledger, range(1, 2))
    with store.transaction() as tx:
        case = tx.create_case(OLDHAM, T0)
        ledger.complete(tx, claim, "done", None, case.id)
        assert [(row.state, row.case_id) for row in tx.messages_for(case)] == [("done", case.id)]
