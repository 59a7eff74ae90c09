"""The ledger's guarantees hold on PostgreSQL too, where writers really run side by side."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from resdesk.cases import leases, open_store
from resdesk.cases.models import Message
from resdesk.intake.ledger import Ledger, LedgerKey

T0 = datetime(2026, 4, 14, 10, 0, tzinfo=timezone.utc)

WORKER = """
import json, sys, time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from resdesk.cases import open_store
from resdesk.intake.ledger import Ledger, LedgerKey
store = open_store(sys.argv[1], sys.argv[2])
ledger = Ledger(store)
worker, count, go = sys.argv[3], int(sys.argv[4]), Path(sys.argv[5])
later = datetime.now(timezone.utc) + timedelta(hours=1)  # every earlier claim is stale by then
while not go.exists():
    time.sleep(0.01)
mine = []
for uid in range(count):
    claim = ledger.claim(LedgerKey("inbox", "INBOX", "1", str(uid)), None, worker, now=later)
    if claim is None:
        continue
    with store.transaction() as tx:
        ledger.complete(tx, claim, "done")
    mine.append(uid)
print(json.dumps(mine))
"""


def test_two_processes_on_postgresql_never_claim_or_take_over_the_same_message(postgres, tmp_path):
    """GIVEN 80 messages, half of them left claimed by a stopped worker, on PostgreSQL WHEN two processes claim
    them all at once THEN each message (new or taken over) goes to exactly one process."""
    url = postgres.new_database()
    store = open_store(url, tmp_path / "archive")
    ledger = Ledger(store)
    count, go = 80, tmp_path / "go"
    for uid in range(0, count, 2):
        ledger.claim(LedgerKey("inbox", "INBOX", "1", str(uid)), None, "stopped", now=T0)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, str(tmp_path / "archive"), name, str(count), str(go)],
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
        rows = tx.session.query(Message).all()
        assert {m.state for m in rows} == {"done"} and len(rows) == count
        assert sorted({m.attempts for m in rows}) == [1, 2]
    store.close()


def test_lease_on_postgresql(postgres, tmp_path):
    """GIVEN a PostgreSQL case file WHEN two watchers want one mailbox THEN only one holds the lease."""
    store = open_store(postgres.new_database(), tmp_path / "archive")
    assert leases.take(store, "mailbox:inbox", "a", timedelta(seconds=30), now=T0)
    assert not leases.take(store, "mailbox:inbox", "b", timedelta(seconds=30), now=T0)
    assert leases.holder_of(store, "mailbox:inbox", now=T0) == "a"
    store.close()
