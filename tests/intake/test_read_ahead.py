"""Reading ahead: the next fetch batch is handed to the reader process before the one claimed is
recorded, and the reader stages each message's archived copy; on a real Maildir, a real SQLite case
file and a real reader process."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from resdesk.cases.archive import Archive
from resdesk.errors import StoreError
from resdesk.intake import watch
from tests.intake.test_batches import _backlog


def _incoming(root: Path) -> list[Path]:
    """Temporary files left in the archive: staged copies neither put in place nor removed."""
    return sorted(root.rglob(".incoming-*"))


class NotesOrder:
    """Our own processor interface around the real one: notes when each batch is handed to the reader
    and when each message is recorded."""

    def __init__(self, inner):
        self.inner, self.log = inner, []

    def read_ahead(self, fetched):
        if fetched:
            self.log.append(("read-ahead", [item.ref.uid for item in fetched]))
        return self.inner.read_ahead(fetched)

    def ledger_headers(self, fetched):
        return self.inner.ledger_headers(fetched)

    def drop_read_ahead(self):
        return self.inner.drop_read_ahead()

    def prepare_many(self, fetched):
        return self.inner.prepare_many(fetched)

    def file(self, tx, fetched, claim, prepared):
        self.log.append(("recorded", fetched.ref.uid))
        return self.inner.file(tx, fetched, claim, prepared)

    def process(self, fetched, claim):
        return self.inner.process(fetched, claim)

    def quarantine(self, fetched, claim, reason, **kwargs):
        return self.inner.quarantine(fetched, claim, reason, **kwargs)


def test_the_next_batches_are_read_while_the_one_claimed_is_recorded(staging_desk, monkeypatch):
    """GIVEN a backlog of four fetch batches WHEN the watcher drains it THEN the first two are handed to
    the reader before anything is recorded, and each later one before the last message of the batch
    two before it is recorded; every message is recorded exactly once on its first attempt, each
    archived copy the reader staged is in place under its SHA-256, and no staged copy is left behind."""
    monkeypatch.setattr(watch, "FETCH_BATCH", 10)
    desk = staging_desk
    desk.watcher.processor = order = NotesOrder(desk.processor)
    for raw in _backlog(40):
        desk.deliver(raw)
    report = desk.drain()
    assert watch.READ_AHEAD == 2 and report.filed["done"] == 40
    handed = [i for i, (what, _) in enumerate(order.log) if what == "read-ahead"]
    recorded = [i for i, (what, _) in enumerate(order.log) if what == "recorded"]
    assert len(handed) == 4 and len(recorded) == 40
    assert handed[1] < recorded[0]  # the first two batches with the reader before the first record
    assert handed[2] < recorded[9] and handed[3] < recorded[19]  # batch 3 before batch 1's last record, …
    rows = desk.ledger_rows()
    assert all(r.state == "done" and r.attempts == 1 for r in rows)
    for row in rows:
        assert Path(row.archive_path).is_file()
        assert Path(row.archive_path).name == f"{row.sha256}.eml"
    assert _incoming(desk.store.archive.root) == []


def test_what_was_read_ahead_for_messages_claimed_elsewhere_is_dropped(staging_desk):
    """GIVEN a backlog of which another watcher claims some messages after this one has read the ledger
    and handed them to its reader WHEN this watcher drains it THEN it records only the others, and the
    copies its reader staged for the messages claimed elsewhere are removed, not left in the archive."""
    desk = staging_desk
    for raw in _backlog(12):
        desk.deliver(raw)
    inner, taken = desk.processor, []

    class ClaimedElsewhereOnceRead:
        def __getattr__(self, name):
            return getattr(inner, name)

        def read_ahead(self, fetched):
            inner.read_ahead(fetched)
            for item in fetched[:4]:
                assert desk.ledger.claim(item.ref, None, "another-watcher") is not None
                taken.append(item.ref.uid)
            for _, read in [pair for batch in inner._ahead for pair in batch.values()]:
                if read.chunk is not None:
                    read.chunk.future.result()  # everything staged before the claims are taken

    desk.watcher.processor = ClaimedElsewhereOnceRead()
    report = desk.drain()
    assert len(taken) == 4 and report.filed["done"] == 8
    assert sorted(r.state for r in desk.ledger_rows()) == ["claimed"] * 4 + ["done"] * 8
    assert _incoming(desk.store.archive.root) == []


def test_a_drain_asked_to_stop_leaves_the_batch_read_ahead_unclaimed(staging_desk, monkeypatch):
    """GIVEN a backlog of several fetch batches WHEN the watcher is asked to stop while it records the
    first THEN it finishes that batch, claims nothing more, and leaves no staged copy of what it had
    read ahead; the next drain records the rest, each once."""
    monkeypatch.setattr(watch, "FETCH_BATCH", 5)
    desk = staging_desk
    for raw in _backlog(15):
        desk.deliver(raw)
    stop = threading.Event()
    inner = desk.processor

    class StopsAfterTheFirst:
        def __getattr__(self, name):
            return getattr(inner, name)

        def file(self, tx, fetched, claim, prepared):
            stop.set()
            return inner.file(tx, fetched, claim, prepared)

    desk.watcher.processor = StopsAfterTheFirst()
    assert desk.watcher.acquire()
    try:
        first = desk.watcher.drain(stop=stop)
    finally:
        desk.watcher.release()
    assert first.filed["done"] == 5 and len(desk.ledger_rows()) == 5
    assert _incoming(desk.store.archive.root) == []
    desk.watcher.processor = inner
    rest = desk.drain()
    assert rest.filed["done"] == 10
    assert all(r.state == "done" and r.attempts == 1 for r in desk.ledger_rows())


def test_a_copy_staged_elsewhere_is_put_in_place_once_when_synced(tmp_path):
    """GIVEN the same message staged twice (by a reader process, say) and adopted by the archive
    WHEN the archive syncs THEN the message lies under its SHA-256 with its bytes, and the redundant
    copy is removed; staging what is already in place writes nothing."""
    root = tmp_path / "archive"
    archive, reader = Archive(root), Archive(root)
    raw = b"Subject: a summary\r\n\r\nOutcome: resolved\r\n"
    digest, target, first = reader.stage("messages", raw, ".eml")
    _, _, second = reader.stage("messages", raw, ".eml")
    archive.adopt(target, first)
    archive.adopt(target, second)
    assert not second.exists() and archive.pending == [target]
    assert archive.sync() == [target]
    assert target.read_bytes() == raw and target.name == f"{digest}.eml"
    assert _incoming(root) == []
    assert reader.stage("messages", raw, ".eml") == (digest, target, None)


def test_a_staged_copy_outside_its_place_in_the_archive_is_refused(tmp_path):
    """GIVEN a staged copy whose temporary file does not lie beside where its SHA-256 puts it WHEN the
    case file is asked to adopt it THEN it refuses with StoreError and holds nothing back."""
    from resdesk.cases.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'case.sqlite3'}", tmp_path / "archive")
    try:
        digest, target, temporary = Archive(tmp_path / "archive").stage("messages", b"Subject: x\r\n\r\nhi\r\n", ".eml")
        stray = tmp_path / ".incoming-elsewhere"
        temporary.rename(stray)
        with pytest.raises(StoreError):
            store.adopt_archived((digest, target, stray))
        assert store.archive.pending == []
        assert store.adopt_archived((digest, target, None)) == (digest, target)
    finally:
        store.close()


def test_a_mailbox_that_fails_fetching_the_next_batch_leaves_this_one_unclaimed(staging_desk, monkeypatch):
    """GIVEN a backlog of two fetch batches and a mailbox whose second fetch fails WHEN the watcher
    drains THEN the failure is raised before the first batch is claimed (nothing is left held by a
    live claim to wait out), and the next drain records every message once, on its first attempt."""
    from resdesk.errors import IntakeError

    monkeypatch.setattr(watch, "FETCH_BATCH", 5)
    desk = staging_desk
    for raw in _backlog(10):
        desk.deliver(raw)
    source, fetches = desk.watcher.source, []

    class FailsItsSecondFetch:
        def __getattr__(self, name):
            return getattr(source, name)

        def fetch(self, uids, max_bytes):
            fetches.append(list(uids))
            if len(fetches) == 2:
                raise IntakeError("The mailbox connection was lost while fetching messages.")
            return source.fetch(uids, max_bytes)

    desk.watcher.source = FailsItsSecondFetch()
    with pytest.raises(IntakeError):
        desk.drain()
    assert len(fetches) == 2 and desk.ledger_rows() == []
    desk.watcher.source = source
    report = desk.drain()
    assert report.filed["done"] == 10
    assert all(r.state == "done" and r.attempts == 1 for r in desk.ledger_rows())
    assert _incoming(desk.store.archive.root) == []
