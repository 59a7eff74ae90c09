"""The drain's mailbox work on a thread of its own (``intake.mailbox``): fetches and moves run while
batches are recorded, one at a time, and a mailbox that fails loses no record and files every message
later; on a real Maildir, a real SQLite case file and a real reader process."""

from __future__ import annotations

import threading
import time

import pytest

from resdesk.errors import IntakeError
from resdesk.intake import watch
from tests.intake.test_batches import _backlog
from tests.intake.test_read_ahead import _incoming


class OneAtATime:
    """Our own wrapper of the real source: notes every call that began while another was under way
    (a source is used by one thread at a time), and which threads called it."""

    def __init__(self, source):
        self.source, self.overlaps, self.threads = source, [], set()
        self._busy = threading.Lock()

    def __getattr__(self, name):
        attribute = getattr(self.source, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            if not self._busy.acquire(blocking=False):
                self.overlaps.append(name)
                return attribute(*args, **kwargs)
            try:
                self.threads.add(threading.get_ident())
                time.sleep(0.002)  # long enough for a second caller to show itself
                result = attribute(*args, **kwargs)
                return list(result) if name == "fetch" else result
            finally:
                self._busy.release()

        return call


class FailsOnce:
    """Our own wrapper of the real source whose ``method`` raises ``IntakeError`` on its ``nth`` call;
    ``calls`` holds each call's first argument."""

    def __init__(self, source, method: str, nth: int, fault: str):
        self.source, self.method, self.nth, self.fault, self.calls = source, method, nth, fault, []

    def __getattr__(self, name):
        attribute = getattr(self.source, name)
        if name != self.method:
            return attribute

        def call(first, *args):
            self.calls.append(list(first))
            if len(self.calls) == self.nth:
                raise IntakeError(self.fault)
            return attribute(first, *args)

        return call


def test_fetches_and_moves_run_on_the_mailbox_thread_one_at_a_time(staging_desk, monkeypatch):
    """GIVEN a backlog of six fetch batches WHEN the watcher drains it THEN the source is never called
    while another call of it is under way, fetches and moves ran off the recording thread, and every
    message is recorded once and filed."""
    monkeypatch.setattr(watch, "FETCH_BATCH", 5)
    desk = staging_desk
    for raw in _backlog(30):
        desk.deliver(raw)
    desk.watcher.source = checked = OneAtATime(desk.source)
    began = time.monotonic()
    report = desk.drain()
    assert 0 < report.seconds <= time.monotonic() - began  # the drain's own span, which the watcher reports
    assert checked.overlaps == []
    assert len(checked.threads) == 2  # the snapshot here, the fetches and moves on the mailbox's thread
    assert report.filed["done"] == 30
    assert all(r.state == "done" and r.attempts == 1 for r in desk.ledger_rows())
    assert desk.folder_count("INBOX") == 0 and desk.folder_count("Resdesk/Processed") == 30
    assert _incoming(desk.store.archive.root) == []


def test_a_move_that_fails_is_raised_and_the_next_drain_files_what_it_owes(staging_desk, monkeypatch):
    """GIVEN a backlog of four fetch batches and a mailbox whose first move fails WHEN the watcher drains
    THEN the failure is raised, every message recorded so far is recorded once, and the next drain files
    the messages whose move was owed and records the rest, each once, on its first attempt."""
    monkeypatch.setattr(watch, "FETCH_BATCH", 5)
    desk = staging_desk
    for raw in _backlog(20):
        desk.deliver(raw)
    source = desk.source
    desk.watcher.source = FailsOnce(source, "move_many", 1, "The mailbox connection was lost while filing messages.")
    with pytest.raises(IntakeError, match="filing messages"):
        desk.drain()
    recorded = [r for r in desk.ledger_rows() if r.state == "done"]
    assert 5 <= len(recorded) <= 20 and all(r.attempts == 1 for r in recorded)
    filed = desk.folder_count("Resdesk/Processed")
    assert filed <= len(recorded) - 5  # the first batch's move is owed, and any not begun when it failed
    desk.watcher.source = source
    report = desk.drain()
    assert report.moved_late == len(recorded) - filed
    assert report.filed["done"] == 20 - len(recorded)
    assert all(r.state == "done" and r.attempts == 1 for r in desk.ledger_rows())
    assert len(desk.ledger_rows()) == 20
    assert desk.folder_count("INBOX") == 0 and desk.folder_count("Resdesk/Processed") == 20
    assert _incoming(desk.store.archive.root) == []


def test_a_fetch_that_fails_while_a_batch_is_recorded_leaves_that_batch_recorded_and_the_next_unclaimed(
    staging_desk, monkeypatch,
):
    """GIVEN a backlog of four fetch batches and a mailbox whose fourth fetch (made on the mailbox's
    thread while the first batch is recorded) fails WHEN the watcher drains THEN the failure is raised
    once the first batch is recorded, before the second is claimed, and the next drain records the
    rest, each message once, on its first attempt, and files every message."""
    monkeypatch.setattr(watch, "FETCH_BATCH", 5)
    desk = staging_desk
    for raw in _backlog(20):
        desk.deliver(raw)
    source = desk.source
    desk.watcher.source = failing = FailsOnce(source, "fetch", 4,
                                              "The mailbox connection was lost while fetching messages.")
    fetches = failing.calls
    with pytest.raises(IntakeError, match="fetching messages"):
        desk.drain()
    rows = desk.ledger_rows()
    assert len(fetches) == 4
    assert [r.uid for r in rows] == fetches[0] and all(r.state == "done" and r.attempts == 1 for r in rows)
    desk.watcher.source = source
    report = desk.drain()
    assert report.filed["done"] == 15
    assert all(r.state == "done" and r.attempts == 1 for r in desk.ledger_rows())
    assert desk.folder_count("INBOX") == 0 and desk.folder_count("Resdesk/Processed") == 20
    assert _incoming(desk.store.archive.root) == []


def test_once_a_mailbox_call_fails_the_calls_not_begun_fail_at_once_without_trying_the_mailbox(staging_desk):
    """GIVEN the mailbox's thread with a move that fails queued before a fetch and another move WHEN
    they run THEN the fetch and the second move fail at once with the same fault, without calling the
    source again (a mailbox out of reach is not tried once more for each), and ``finish`` raises it."""
    from resdesk.intake.mailbox import MailboxThread

    source = FailsOnce(staging_desk.source, "move_many", 1, "The mailbox connection was lost while filing messages.")
    fetched: list[list[str]] = []
    real_fetch = source.source.fetch

    def counted_fetch(uids, max_bytes):
        fetched.append(list(uids))
        return real_fetch(uids, max_bytes)

    source.source.fetch = counted_fetch
    mailbox = MailboxThread(lambda: source)
    mailbox.move([], "Resdesk/Processed")
    fetch = mailbox.fetch(["1"], 1_000_000)
    mailbox.move([], "Resdesk/Processed")
    with pytest.raises(IntakeError, match="filing messages") as raised:
        fetch.result()
    with pytest.raises(IntakeError) as finished:
        mailbox.finish()
    assert finished.value is raised.value
    assert source.calls == [[]] and fetched == []  # the first move only
