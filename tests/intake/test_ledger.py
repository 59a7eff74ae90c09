"""The message ledger: claimed once before any work, completed with the case's events, never doubled."""

from __future__ import annotations

import hashlib

import json
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from resdesk.cases import open_store
from resdesk.cases.models import Alert, Message
from resdesk.intake.ledger import Ledger, LedgerKey
from resdesk.intake.sources.base import MessageRef
from resdesk.errors import StoreError

T0 = datetime(2026, 4, 14, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'var' / 'resdesk.sqlite3'}"


@pytest.fixture
def store(database, tmp_path):
    opened = open_store(database, tmp_path / "archive")
    yield opened
    opened.close()


@pytest.fixture
def ledger(store) -> Ledger:
    return Ledger(store, claim_timeout=timedelta(minutes=5), max_attempts=3)


def key(uid: int, uidvalidity: int = 1) -> MessageRef:
    return MessageRef("inbox@partnership.example", "INBOX", uidvalidity, str(uid))


def _row(store, ledger_id: int) -> Message:
    with store.transaction() as tx:
        return tx.session.get(Message, ledger_id)


def test_a_message_is_claimed_once(ledger):
    """GIVEN a new message WHEN two workers claim it THEN the first holds it and the second is refused."""
    claim = ledger.claim(key(5), "aa" * 32, "worker-1", now=T0)
    assert claim is not None and claim.attempts == 1 and claim.ref == key(5)
    assert ledger.claim(key(5), "aa" * 32, "worker-2", now=T0 + timedelta(seconds=1)) is None


def test_completion_commits_with_the_case_events(ledger, store):
    """GIVEN a claimed message WHEN completed in the transaction that records its case THEN both are stored."""
    from resdesk.protocols import default_registry

    oldham = default_registry().get("oldham")
    claim = ledger.claim(key(5), "aa" * 32, "worker-1", now=T0)
    with store.transaction() as tx:
        case = tx.create_case(oldham, T0)
        tx.record_stage_summary(case, oldham, 1, "escalated", T0, ledger_id=claim.ledger_id)
        ledger.complete(tx, claim, "done", case_id=case.id)
    row = _row(store, claim.ledger_id)
    assert (row.state, row.case_id, row.claimed_by) == ("done", case.id, None)
    assert ledger.known_uids("inbox@partnership.example", "INBOX", 1) == {"5"}
    assert ledger.claim(key(5), "aa" * 32, "worker-2", now=T0 + timedelta(days=1)) is None


def test_a_failure_while_recording_leaves_the_claim_to_retry(ledger, store):
    """GIVEN a claimed message WHEN the recording transaction fails THEN the case and completion are both absent."""
    from resdesk.protocols import default_registry

    claim = ledger.claim(key(5), "aa" * 32, "worker-1", now=T0)
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.create_case(default_registry().get("oldham"), T0)
            ledger.complete(tx, claim, "done")
            raise RuntimeError("renderer fell over")
    assert _row(store, claim.ledger_id).state == "claimed"
    with store.transaction() as tx:
        assert tx.all_cases() == []


def test_a_stale_claim_is_taken_over_and_quarantined_after_three_attempts(ledger, store):
    """GIVEN a message whose workers keep stopping WHEN claimed after each timeout THEN the fourth claim is
    handed back exhausted, and completing it quarantines it with the reason."""
    later = T0
    attempts = []
    for _ in range(3):
        claim = ledger.claim(key(9), "bb" * 32, f"worker-{len(attempts)}", now=later)
        attempts.append(claim.attempts)
        assert ledger.claim(key(9), "bb" * 32, "someone", now=later + timedelta(minutes=1)) is None  # still live
        later += timedelta(minutes=6)
    assert attempts == [1, 2, 3]
    final = ledger.claim(key(9), "bb" * 32, "worker-last", now=later)
    assert final.exhausted and final.reason.startswith("failed 3 times: ")
    with store.transaction() as tx:
        ledger.complete(tx, final, "quarantined", final.reason)
    row = _row(store, final.ledger_id)
    assert row.state == "quarantined" and row.reason.startswith("failed 3 times")
    assert ledger.claim(key(9), "bb" * 32, "worker-x", now=later + timedelta(days=1)) is None


def test_failed_is_retried_at_once_with_attempts_counted(ledger, store):
    """GIVEN a message completed as failed WHEN claimed again THEN it is retried at once as attempt 2."""
    claim = ledger.claim(key(3), None, "worker-1", now=T0)
    with store.transaction() as tx:
        ledger.complete(tx, claim, "failed", "SMTP server unavailable")
    again = ledger.claim(key(3), None, "worker-1", now=T0)
    assert again.attempts == 2 and not again.exhausted


def test_a_claim_taken_over_cannot_be_completed_by_its_old_holder(ledger, store):
    """GIVEN a claim that went stale and was taken over WHEN the old holder completes it THEN it is refused."""
    old = ledger.claim(key(4), None, "slow-worker", now=T0)
    new = ledger.claim(key(4), None, "fresh-worker", now=T0 + timedelta(minutes=10))
    with pytest.raises(StoreError):
        with store.transaction() as tx:
            ledger.complete(tx, old, "done")
    with store.transaction() as tx:
        ledger.complete(tx, new, "done")
    assert _row(store, new.ledger_id).state == "done"


def test_reclaim_abandoned_frees_claims_of_workers_that_stopped(ledger):
    """GIVEN claims by a watcher that was killed WHEN the new lease holder reclaims THEN it may claim them at once."""
    ledger.claim(key(1), None, "killed-watcher", now=T0)
    ledger.claim(key(2), None, "killed-watcher", now=T0)
    assert ledger.reclaim_abandoned("inbox@partnership.example", "INBOX", "new-watcher") == 2
    retaken = ledger.claim(key(1), None, "new-watcher", now=T0 + timedelta(seconds=1))
    assert retaken is not None and retaken.attempts == 2


def test_uidvalidity_change_raises_an_alert_and_keeps_old_rows_apart(ledger, store):
    """GIVEN UID 1 handled under UIDVALIDITY 100 WHEN the folder is recreated (UIDVALIDITY 200) with a new UID 1
    THEN an alert is raised, the new UID 1 is claimable, and the old row is untouched."""
    account = "inbox@partnership.example"
    assert ledger.check_uidvalidity(account, "INBOX", 100, now=T0) is None
    old = ledger.claim(key(1, 100), "cc" * 32, "w", now=T0)
    with store.transaction() as tx:
        ledger.complete(tx, old, "done")
    change = ledger.check_uidvalidity(account, "INBOX", 200, now=T0)
    assert (change.previous, change.current) == ("100", "200")
    assert ledger.check_uidvalidity(account, "INBOX", 200, now=T0) is None  # only once
    assert ledger.known_uids(account, "INBOX", 200) == set()
    new = ledger.claim(key(1, 200), "dd" * 32, "w", now=T0)
    assert new is not None and new.duplicate_of is None
    assert _row(store, old.ledger_id).state == "done"
    with store.transaction() as tx:
        alert = tx.session.query(Alert).one()
        assert alert.kind == "uidvalidity-changed" and alert.detail["previous"] == "100"


def test_the_same_content_under_a_new_uidvalidity_is_a_duplicate(ledger, store):
    """GIVEN a message handled under UIDVALIDITY 100 WHEN the same bytes reappear under 200 THEN the claim
    names the earlier row, and completing it as ignored records the duplicate."""
    first = ledger.claim(key(7, 100), "ee" * 32, "w", now=T0)
    with store.transaction() as tx:
        ledger.complete(tx, first, "done")
    again = ledger.claim(key(1, 200), "ee" * 32, "w", now=T0)
    assert again.duplicate_of == first.ledger_id
    with store.transaction() as tx:
        ledger.complete(tx, again, "ignored", "the same message was already recorded")
    assert _row(store, again.ledger_id).duplicate_of == first.ledger_id


def test_one_lease_holder_at_a_time(store):
    """GIVEN two watchers on one mailbox WHEN both ask for the lease THEN one holds it; the other gets it only
    after release or expiry."""
    from resdesk.cases import leases

    assert leases.take(store, "mailbox:inbox", "watcher-a", 30, now=T0)
    assert not leases.take(store, "mailbox:inbox", "watcher-b", 30, now=T0 + timedelta(seconds=5))
    assert leases.renew(store, "mailbox:inbox", "watcher-a", 30, now=T0 + timedelta(seconds=20))
    assert not leases.take(store, "mailbox:inbox", "watcher-b", 30, now=T0 + timedelta(seconds=40))
    assert leases.take(store, "mailbox:inbox", "watcher-b", 30, now=T0 + timedelta(seconds=51))
    assert not leases.renew(store, "mailbox:inbox", "watcher-a", 30, now=T0 + timedelta(seconds=52))
    leases.release(store, "mailbox:inbox", "watcher-b")
    assert leases.holder_of(store, "mailbox:inbox", now=T0 + timedelta(seconds=53)) is None
    assert leases.take(store, "mailbox:inbox", "watcher-a", 30, now=T0 + timedelta(seconds=53))


def test_a_lease_held_by_a_process_that_has_exited_is_taken_over_at_once(store):
    """GIVEN a lease held, far from expiry, by a process on this host that has exited (a watcher killed
    with SIGKILL) WHEN another holder asks for it THEN it gets it at once; a live holder's is refused."""
    import subprocess
    import sys

    from resdesk.cases import leases
    from resdesk.cases.holders import holder_name

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = holder_name("x").replace(f":{os.getpid()}:", f":{int(dead.stdout)}:")
    assert leases.take(store, "mailbox:inbox", gone, 3600, now=T0)
    assert leases.take(store, "mailbox:inbox", "watcher-b", 30, now=T0 + timedelta(seconds=1))
    assert leases.holder_of(store, "mailbox:inbox", now=T0 + timedelta(seconds=2)) == "watcher-b"
    assert leases.take(store, "outbox-sender", holder_name("live"), 3600, now=T0)
    assert not leases.take(store, "outbox-sender", "watcher-c", 30, now=T0 + timedelta(seconds=1))


CLAIMING_WORKER = """
import json, sys, time
from pathlib import Path
from resdesk.cases import open_store
from resdesk.intake.ledger import Ledger, LedgerKey
store = open_store(sys.argv[1], sys.argv[2])
ledger = Ledger(store)
worker, count, go = sys.argv[3], int(sys.argv[4]), Path(sys.argv[5])
while not go.exists():
    time.sleep(0.01)
mine = []
for uid in range(count):
    claim = ledger.claim(LedgerKey("inbox", "INBOX", "1", str(uid)), None, worker)
    if claim is None:
        continue
    with store.transaction() as tx:
        ledger.complete(tx, claim, "done")
    mine.append(uid)
print(json.dumps(mine))
"""


def test_two_processes_never_claim_the_same_message(database, tmp_path, store):
    """GIVEN 120 messages WHEN two processes claim them all at the same moment THEN each message is claimed
    by exactly one of them, and every row ends done."""
    count, go = 120, tmp_path / "go"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMING_WORKER, database, str(tmp_path / "archive"), name, str(count), str(go)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        for name in ("worker-a", "worker-b")
    ]
    go.touch()
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err.decode()
        results.append(set(json.loads(out)))
    assert results[0].isdisjoint(results[1])
    assert results[0] | results[1] == set(range(count))
    with store.transaction() as tx:
        assert {m.state for m in tx.session.query(Message)} == {"done"}
        assert tx.session.query(Message).count() == count


KILLED_WHILE_RECORDING = """
import sys
from datetime import datetime, timezone
from resdesk.cases import open_store
from resdesk.intake.ledger import Ledger, LedgerKey
from resdesk.protocols import default_registry
oldham = default_registry().get("oldham")
store = open_store(sys.argv[1], sys.argv[2])
ledger = Ledger(store)
at = datetime(2026, 4, 14, 10, tzinfo=timezone.utc)
uid = 0
while True:
    claim = ledger.claim(LedgerKey("inbox", "INBOX", "1", str(uid)), None, "doomed")
    with store.transaction() as tx:
        case = tx.create_case(oldham, at)
        tx.record_stage_summary(case, oldham, 1, "escalated", at, ledger_id=claim.ledger_id)
        ledger.complete(tx, claim, "done", case_id=case.id)
    uid += 1
    print(uid, flush=True)
"""


@pytest.mark.parametrize("after", [1, 7, 23])
def test_sigkill_at_any_moment_leaves_each_message_unclaimed_claimed_or_complete(database, tmp_path, after):
    """GIVEN a worker claiming and recording message after message WHEN it is killed with SIGKILL at an
    arbitrary point THEN the database is intact and every message is either merely claimed (no case) or done
    (with its case and events): never half of both."""
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WHILE_RECORDING, database, str(tmp_path / "archive")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    for _ in range(after):
        assert child.stdout.readline(), child.stderr.read().decode()
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with sqlite3.connect(database.removeprefix("sqlite:///")) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = connection.execute("SELECT id, state, case_id FROM messages").fetchall()
        cases = connection.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
        linked = connection.execute("SELECT COUNT(DISTINCT ledger_id) FROM events").fetchone()[0]
    done = [r for r in rows if r[1] == "done"]
    assert len(done) >= after
    assert all(case_id is not None for _, _, case_id in done)
    assert {state for _, state, _ in rows} <= {"done", "claimed"}
    assert [state for _, state, _ in rows].count("claimed") <= 1
    assert cases == len(done) == linked
    # A restarted worker takes the interrupted message over.
    store = open_store(database, tmp_path / "archive")
    ledger = Ledger(store)
    assert ledger.reclaim_abandoned("inbox", "INBOX", "restarted") == len(rows) - len(done)
    for ledger_id, state, _ in rows:
        if state == "claimed":
            uid = _row(store, ledger_id).uid
            assert ledger.claim(LedgerKey("inbox", "INBOX", "1", uid), None, "restarted").attempts == 2
    store.close()


def test_every_completion_is_in_the_audit_chain(ledger, store):
    """GIVEN a message handled and another quarantined WHEN the audit chain is read THEN both are there
    with their content hashes, and the chain verifies."""
    from resdesk.cases import verify_chain
    from resdesk.cases.models import AuditEntry

    for uid, state in ((1, "done"), (2, "quarantined")):
        claim = ledger.claim(key(uid), f"{uid:02d}" * 32, "w", now=T0)
        with store.transaction() as tx:
            ledger.complete(tx, claim, state, None if state == "done" else "attachment is macro-enabled")
    with store.transaction() as tx:
        entries = {e.action: e.payload for e in tx.session.query(AuditEntry)}
    assert entries["message-done"]["sha256"] == "01" * 32
    assert entries["message-quarantined"]["reason_sha256"] == hashlib.sha256(b"attachment is macro-enabled").hexdigest()
    assert "reason" not in entries["message-quarantined"]
    assert verify_chain(store) == (True, None)


def _states(ledger, store, make):
    """Build one ledger's history with ``make(ledger)``; its rows as (uid, state, attempts, reason)."""
    make(ledger)
    with store.transaction() as tx:
        return sorted((r.uid, r.state, r.attempts, r.reason, r.duplicate_of is not None)
                      for r in tx.session.query(Message))


def test_claiming_a_batch_gives_what_claiming_one_by_one_gives(tmp_path):
    """GIVEN two ledgers with the same history (done, held by a live claim, abandoned, failed, failed
    too often, a repeat of done content) WHEN one claims a batch in one transaction and the other claims
    the same messages one by one THEN the claims and the rows are the same, in the same order."""
    def history(ledger: Ledger, store) -> None:
        done = ledger.claim(key(1), "aa" * 32, "w0", now=T0)
        with store.transaction() as tx:
            ledger.complete(tx, done, "done")
        ledger.claim(key(2), "bb" * 32, "live", now=T0 + timedelta(minutes=9))
        ledger.claim(key(3), "cc" * 32, "stopped", now=T0)
        failed = ledger.claim(key(4), "dd" * 32, "w0", now=T0)
        with store.transaction() as tx:
            ledger.complete(tx, failed, "failed", "the disk was full")
        for attempt in range(3):
            ledger.claim(key(5), "ee" * 32, f"w{attempt}", now=T0 + timedelta(minutes=6 * attempt - 20))

    wanted = [(key(uid), sha, {"subject": f"s{uid}"}) for uid, sha in
              [(1, "aa" * 32), (2, "bb" * 32), (3, "cc" * 32), (4, "dd" * 32), (5, "ee" * 32), (6, "aa" * 32),
               (7, "ff" * 32)]]
    results = []
    for name, claim_them in (
        ("batch", lambda ledger: ledger.claim_many(wanted, "me", now=T0 + timedelta(minutes=10))),
        ("one by one", lambda ledger: [ledger.claim(ref, sha, "me", now=T0 + timedelta(minutes=10), **headers)
                                       for ref, sha, headers in wanted]),
    ):
        store = open_store(f"sqlite:///{tmp_path / name / 'case.sqlite3'}", tmp_path / name / "archive")
        try:
            ledger = Ledger(store, claim_timeout=timedelta(minutes=5), max_attempts=3)
            history(ledger, store)
            claims = claim_them(ledger)
            shape = [None if c is None else (c.key.uid, c.attempts, c.exhausted, c.reason, c.duplicate_of, c.ref)
                     for c in claims]
            results.append((shape, _states(ledger, store, lambda _: None)))
        finally:
            store.close()
    assert results[0] == results[1]
    shape = results[0][0]
    assert [s and s[0] for s in shape] == [None, None, "3", "4", "5", "6", "7"]
    assert shape[4][2] is True and shape[5][4] is not None  # uid 5 exhausted; uid 6 repeats uid 1's content


def test_claiming_a_batch_reads_only_its_own_ledger_rows_by_index(store, ledger):
    """GIVEN a ledger that already holds many finished rows of the same account and folder WHEN a batch
    of fifty is claimed THEN every query the claim makes of the ledger is answered by a seek of an
    index on all the columns it gives (the unique key; the account with the SHA-256), never by reading
    every row of the account or folder, which made a long backlog's drain grow with its square
    (SQLite's own query plans)."""
    from sqlalchemy import event

    earlier = [(key(uid), f"{uid:064x}", {}) for uid in range(1, 201)]
    for claim in ledger.claim_many(earlier, "w0", now=T0):
        with store.transaction() as tx:
            ledger.complete(tx, claim, "done")
    statements: list[tuple[str, object]] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and " messages" in statement:
            statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", note)
    try:
        claims = ledger.claim_many([(key(uid), f"{uid % 220:064x}", {}) for uid in range(201, 251)], "me", now=T0)
    finally:
        event.remove(store.engine, "before_cursor_execute", note)
    assert sum(c is not None and c.duplicate_of is not None for c in claims) == 30  # 221..250 repeat 1..30
    assert len(statements) >= 3
    with store.engine.connect() as connection:
        for statement, parameters in statements:
            plan = " ".join(row[3] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
            assert "(account=? AND folder=? AND uidvalidity=? AND uid=?)" in plan or "(account=? AND sha256=?)" in plan, plan
