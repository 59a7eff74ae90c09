"""Batched intake: a backlog claimed and recorded a batch to a transaction, read in a reader process,
on a real Maildir and a real SQLite case file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import event

from resdesk.intake import watch
from resdesk.intake.readers import ReaderPool
from resdesk.intake.reading import IntakePolicy, MessageReader
from tests.intake.mail import newsletter, summary
from tests.intake.test_process import MALFORMED, Desk

POLICY = IntakePolicy(frozenset({"escalations@partnership.example"}), (), None, 1_000_000)


def _backlog(count: int) -> list[bytes]:
    return [summary(1 + i % 3, ["escalated", "resolved", "actions agreed"][i % 3], n=i,
                    sender=f"Agent {i} <agent{i}@police.example>") for i in range(count)]


@pytest.fixture
def readers():
    pool = ReaderPool(POLICY, pool_from=2)
    yield pool
    pool.close()


def _desk(tmp_path, readers=None) -> Desk:
    tmp_path.mkdir(parents=True, exist_ok=True)
    desk = Desk(tmp_path)
    if readers is not None:
        desk.processor.readers = readers
    return desk


def _outcome(desk: Desk):
    rows = desk.ledger_rows()
    return (
        sorted((r.subject, r.state, r.reason) for r in rows),
        sorted((ref.split("-", 1)[0], stage, status) for ref, stage, status in desk.cases()),
        len(desk.events("message-recorded")),
    )


def test_a_backlog_is_recorded_a_batch_to_a_transaction_with_the_same_result(tmp_path, readers):
    """GIVEN 60 summaries, a newsletter and a malformed message WHEN one watcher drains them in
    batches, reading in a reader process, and another drains the same mail one message at a time
    THEN both record the same cases, ledger states and events, and the batched one commits a
    handful of transactions, not two per message."""
    mail = [*_backlog(60), newsletter(), next(iter(MALFORMED.values()))]
    batched = _desk(tmp_path / "batched", readers)
    single = _desk(tmp_path / "single")
    single.watcher.processor = SingleOnly(single.processor)
    for desk in (batched, single):
        for raw in mail:
            desk.deliver(raw)
    commits = []
    event.listen(batched.store.engine, "commit", lambda connection: commits.append(1))
    report = batched.drain()
    single.drain()
    assert report.filed["done"] == 60 and report.filed["quarantined"] == 1 and report.filed["ignored"] == 1
    assert _outcome(batched) == _outcome(single)
    recorded = [e.ledger_id for e in batched.events("message-recorded")]
    assert len(recorded) == len(set(recorded)) == 60
    # 62 messages in two fetch batches: per batch one claim and three recording transactions, plus
    # the drain's own reads (UIDVALIDITY, ledger, leases); one message at a time would be over 124.
    assert len(commits) < 25, len(commits)
    assert batched.folder_count("Resdesk/Processed") == 60 and batched.folder_count("Resdesk/Quarantine") == 1


class SingleOnly:
    """Our own processor interface without ``prepare_many``: the watcher records one at a time."""

    def __init__(self, inner):
        self.inner = inner

    def process(self, fetched, claim):
        return self.inner.process(fetched, claim)

    def quarantine(self, fetched, claim, reason):
        return self.inner.quarantine(fetched, claim, reason)


class BreaksItsBatch:
    """Our own processor interface around the real one: recording a message whose bytes hold a
    marker raises (as a full disk would), in a batch and on its own."""

    def __init__(self, inner, marker: bytes):
        self.inner, self.marker = inner, marker

    def prepare_many(self, fetched):
        return self.inner.prepare_many(fetched)

    def file(self, tx, fetched, claim, prepared):
        if self.marker in fetched.raw:
            raise RuntimeError("the disk was full")
        return self.inner.file(tx, fetched, claim, prepared)

    def process(self, fetched, claim):
        if self.marker in fetched.raw:
            raise RuntimeError("the disk was full")
        return self.inner.process(fetched, claim)

    def quarantine(self, fetched, claim, reason):
        return self.inner.quarantine(fetched, claim, reason)


def test_a_message_that_breaks_its_batch_costs_no_other_its_record_or_its_attempts(tmp_path, readers):
    """GIVEN a backlog in which one message cannot be recorded WHEN the watcher runs once
    THEN every other message is recorded exactly once on its first attempt, and the bad one is
    retried on its own and quarantined with the reason after its bounded attempts."""
    desk = _desk(tmp_path, readers)
    desk.watcher.processor = BreaksItsBatch(desk.processor, b"agent7@police.example")
    for raw in _backlog(30):
        desk.deliver(raw)
    desk.watcher.run(once=True)
    rows = desk.ledger_rows()
    done = [r for r in rows if r.state == "done"]
    quarantined = [r for r in rows if r.state == "quarantined"]
    assert len(done) == 29 and all(r.attempts == 1 for r in done)
    assert len(quarantined) == 1 and "agent7@" in quarantined[0].sender
    assert "failed 3 times: RuntimeError: the disk was full" in quarantined[0].reason
    recorded = [e.ledger_id for e in desk.events("message-recorded")]
    assert len(recorded) == len(set(recorded)) == 29


def test_each_fetch_batch_is_followed_by_the_after_batch_call(tmp_path, monkeypatch):
    """GIVEN five messages and fetch batches of two WHEN the watcher drains them
    THEN ``after_batch`` is called after each batch, with what was filed so far, before the next is read
    (so acknowledgements can go before the rest of a backlog is read)."""
    monkeypatch.setattr(watch, "FETCH_BATCH", 2)
    desk = _desk(tmp_path)
    for raw in _backlog(5):
        desk.deliver(raw)
    seen = []
    desk.watcher.run(once=True, after_batch=lambda report: seen.append(
        (report.filed["done"], len(desk.events("message-recorded")))))
    assert seen == [(2, 2), (4, 4), (5, 5)]


def test_reading_in_the_reader_process_gives_what_reading_here_gives(tmp_path, readers):
    """GIVEN summaries, a malformed message, a newsletter and a spoofed sender WHEN read in the reader
    process and in this one THEN the readings (classification, forms, flaws, sender verification) and
    the refusals (reason, whom to answer, fields) are the same."""
    processor = MessageReader(POLICY)
    raws = [*_backlog(3), *MALFORMED.values(), newsletter(),
            summary(1, "escalated", sender='"dana.whitfield@police.example" <attacker@evil.example>')]
    now = datetime(2026, 12, 14, 10, tzinfo=timezone.utc)
    there = list(readers.read_all(processor, raws, now, frozenset()))
    here = [ReaderPool(POLICY, pool_from=10_000).read_all(processor, [raw], now, frozenset()) for raw in raws]
    for a, b in zip(there, (next(h) for h in here)):
        assert _shape(a) == _shape(b)
    assert any(isinstance(a, Exception) for a in there) and any(not isinstance(a, Exception) for a in there)


def test_a_message_whose_reading_breaks_in_the_reader_costs_the_rest_of_its_chunk_nothing(monkeypatch):
    """GIVEN messages handed to the reader together (one task), of which one breaks the reading with
    a fault that is not a refusal WHEN the reader reads them THEN that message's place holds the
    fault, for the watcher to record it alone, and the others are read as if alone."""
    from resdesk.intake import readers as reader_process

    raws = _backlog(3)
    now = datetime(2026, 12, 14, 10, tzinfo=timezone.utc)
    reading = MessageReader(POLICY)

    class BreaksOnTheSecond:
        def read(self, raw, *, now, trusted):
            if raw == raws[1]:
                raise RuntimeError("the form reader broke")
            return reading.read(raw, now=now, trusted=trusted)

    monkeypatch.setattr(reader_process, "_reader", BreaksOnTheSecond())
    done = reader_process._read_chunk(raws, now, frozenset())
    assert isinstance(done[1], RuntimeError) and str(done[1]) == "the form reader broke"
    for raw, (result, _, headers) in ((raws[0], done[0]), (raws[2], done[2])):
        assert result[0] == "read" and _shape(result[1]) == _shape(reading.read(raw, now=now, trusted=frozenset()))
        assert headers["message_id"] is not None


def _shape(outcome):
    if isinstance(outcome, Exception):
        return (type(outcome).__name__, str(outcome), getattr(outcome, "answer_to", None),
                getattr(outcome, "fields", None))
    return (outcome.classification, outcome.when, [(n, f.kind, f.fields) for n, f in outcome.forms],
            outcome.flaws, outcome.verification, outcome.message.subject, outcome.message.body_text)


def test_a_batch_handed_over_while_the_reader_starts_is_read_here(readers):
    """GIVEN a reader process just started (its imports take most of a second) WHEN a batch is handed
    over at once THEN it is read in the calling process, as the reader would read it (a chunk handed to
    a reader still starting could be neither read nor taken back until it is up); once the reader is
    up, the next batch goes to it."""
    processor = MessageReader(POLICY)
    now = datetime(2026, 12, 14, 10, tzinfo=timezone.utc)
    raws = _backlog(4)
    readers.start()
    early = readers.submit(processor, raws, now, frozenset())
    assert all(read.chunk is None for read in early)
    assert [_shape(read.outcome()) for read in early] == [_shape(processor.read(raw, now=now, trusted=frozenset()))
                                                          for raw in raws]
    readers._ready.result(timeout=60)
    later = readers.submit(processor, raws, now, frozenset())
    assert all(read.chunk is not None for read in later)
    assert [_shape(read.outcome()) for read in later] == [_shape(read.outcome()) for read in early]


def test_a_reader_that_never_comes_up_is_reported_once_and_costs_no_reading(caplog):
    """GIVEN a reader process started long ago that is still not up WHEN batches are handed over THEN
    each is read in the calling process, as it would be read there, and the watcher's log says once
    that the reader has not started."""
    from concurrent.futures import Future

    from resdesk.intake import readers as reader_process

    pool = ReaderPool(POLICY, pool_from=2)
    pool._ready, pool._started_at = Future(), time.monotonic() - reader_process.SLOW_START_SECONDS - 1
    processor = MessageReader(POLICY)
    now = datetime(2026, 12, 14, 10, tzinfo=timezone.utc)
    raws = _backlog(3)
    with caplog.at_level("WARNING", logger="resdesk.watch"):
        for _ in range(2):
            reads = pool.submit(processor, raws, now, frozenset())
            assert [_shape(read.outcome()) for read in reads] == [
                _shape(processor.read(raw, now=now, trusted=frozenset())) for raw in raws]
    told = [record for record in caplog.records if "has not started" in record.getMessage()]
    assert len(told) == 1
    assert pool._pool is None  # nothing was handed to a process


def test_a_reader_process_that_dies_costs_no_reading(readers):
    """GIVEN a reader process WHEN it is killed between batches THEN every later batch is still read
    completely, and a new reader process is started."""
    processor = MessageReader(POLICY)
    now = datetime(2026, 12, 14, 10, tzinfo=timezone.utc)
    raws = _backlog(4)
    first = list(readers.read_all(processor, raws, now, frozenset()))
    (pid,) = list(readers._pool._processes)
    os.kill(pid, signal.SIGKILL)
    # The dead reader is noticed at a hand-over or a result, whichever comes first; a batch the
    # watcher reads wholly itself (it took every message back before the pool saw the death, as on
    # a loaded machine, or a quick one) notices nothing. Every batch is read completely either way;
    # the batches come a little apart, as fetch batches do, until the pool has seen the death.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        later = list(readers.read_all(processor, raws, now, frozenset()))
        assert [_shape(r) for r in later] == [_shape(r) for r in first]
        if readers._pool is not None and list(readers._pool._processes) not in ([], [pid]):
            break
        time.sleep(0.05)
    else:
        pytest.fail("no new reader process was started after the first one died")


def test_a_reader_process_leaves_when_its_watcher_is_killed(tmp_path):
    """GIVEN a watcher process with a reader process WHEN the watcher is killed with SIGKILL
    THEN its reader exits by itself within seconds instead of waiting for work for ever."""
    script = (
        "import os, sys, datetime\n"
        "from resdesk.intake.readers import ReaderPool\n"
        "from resdesk.intake.reading import IntakePolicy, MessageReader\n"
        "policy = IntakePolicy(frozenset({'escalations@partnership.example'}))\n"
        "pool = ReaderPool(policy, pool_from=1)\n"
        "list(pool.read_all(MessageReader(policy), [b'Subject: x\\r\\n\\r\\nhello\\r\\n'],"
        " datetime.datetime.now(datetime.timezone.utc), frozenset()))\n"
        "print(*pool._pool._processes, flush=True)\n"
        "sys.stdin.read()\n"
    )
    watcher = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    reader = int(watcher.stdout.readline())
    os.kill(reader, 0)  # running
    watcher.kill()
    watcher.wait()
    _expect_gone(reader, 30, "the reader process outlived its watcher")


def test_one_reader_reads_in_several_threads_each_at_its_own_time():
    """GIVEN one reader shared by the workspace's threads WHEN two threads read messages without a
    Date at once, each at its own time THEN each message is dated with its own thread's time."""
    import threading
    from datetime import timedelta

    reader = MessageReader(POLICY)
    raw = summary(1, "escalated").replace(b"Date:", b"X-Old-Date:")
    base = datetime(2026, 12, 14, 10, tzinfo=timezone.utc)
    wrong = []

    def read(offset: int) -> None:
        now = base + timedelta(hours=offset)
        for _ in range(40):
            if reader.read(raw, now=now).when != now:
                wrong.append(offset)

    threads = [threading.Thread(target=read, args=(offset,)) for offset in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert reader.read(raw, now=base).when == base
    assert wrong == []


def test_a_reader_process_leaves_when_its_watcher_dies_while_it_starts():
    """GIVEN a watcher that asks for a reader process WHEN it dies before the reader has finished
    starting THEN the reader exits by itself once started, instead of waiting for work for ever."""
    script = (
        "import os, datetime\n"
        "from resdesk.intake.readers import ReaderPool\n"
        "from resdesk.intake.reading import IntakePolicy, MessageReader\n"
        "policy = IntakePolicy(frozenset({'escalations@partnership.example'}))\n"
        "pool = ReaderPool(policy, pool_from=1)\n"
        "pool._started().submit(len, b'x')\n"
        "print(*pool._pool._processes, flush=True)\n"
        "os._exit(0)\n"
    )
    watcher = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    reader = int(watcher.stdout.split()[0])
    _expect_gone(reader, 60, "the reader process outlived a watcher that died while it started")


def _expect_gone(pid: int, seconds: float, failure: str) -> None:
    """Wait up to ``seconds`` for process ``pid`` to exit; past that, kill it and fail with ``failure``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _running(pid):
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    pytest.fail(failure)


def _running(pid: int) -> bool:
    """Whether the process runs: it exists and has not exited (an exited orphan stays a zombie until
    whatever adopted it reaps it, which some container inits do late)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _thanks(n: int, sender: str, parent: str) -> bytes:
    """A person's short answer on a thread (no stage, no outcome), as the drain bench's replies are."""
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"] = sender, "escalations@partnership.example"
    msg["Subject"], msg["Date"] = "Re: our conversation", "Mon, 14 Dec 2026 11:00:00 +0000"
    msg["Message-ID"], msg["In-Reply-To"] = f"<thanks-{n}@agency.example>", parent
    msg.set_content("Thanks, noted.")
    return msg.as_bytes()


class CountsItsTransactions:
    """Our own processor interface around the real one: notes which unit of work records each message."""

    def __init__(self, inner):
        self.inner, self.units = inner, []

    def prepare_many(self, fetched):
        return self.inner.prepare_many(fetched)

    def file(self, tx, fetched, claim, prepared):
        self.units.append(id(tx))
        return self.inner.file(tx, fetched, claim, prepared)

    def process(self, fetched, claim):
        self.units.append(None)
        return self.inner.process(fetched, claim)

    def quarantine(self, fetched, claim, reason):
        return self.inner.quarantine(fetched, claim, reason)


def test_a_reply_finds_the_case_its_thread_opened_earlier_in_the_same_batch(tmp_path):
    """GIVEN three summaries that each open a case, a reply to each from its sender, and a reply to the
    first reply, all in one fetch batch WHEN the watcher records them in one transaction THEN every reply
    is recorded on the case its thread opened in that transaction (found by Message-ID, none left as
    'a reply on no known case'), the audit chain verifies, and the same mail recorded one message at a
    time gives the same cases, ledger and events."""
    from resdesk.cases import verify_chain

    senders = [f"Agent {i} <agent{i}@agency{i}.example>" for i in range(3)]
    mail = [summary(1, "escalated", n=i, sender=senders[i]) for i in range(3)]
    mail += [_thanks(i, senders[i], f"<summary-1-{i}@police.example>") for i in range(3)]
    mail.append(_thanks(9, senders[0], "<thanks-0@agency.example>"))
    batched, single = _desk(tmp_path / "batched"), _desk(tmp_path / "single")
    batched.watcher.processor = counted = CountsItsTransactions(batched.processor)
    single.watcher.processor = SingleOnly(single.processor)
    for desk in (batched, single):
        for raw in mail:
            desk.deliver(raw)
    assert batched.drain().filed["done"] == 7
    single.drain()
    assert len(counted.units) == 7 and len(set(counted.units)) == 1 and None not in counted.units
    assert _outcome(batched) == _outcome(single)
    events = batched.events("message-recorded")
    with batched.store.transaction() as tx:
        recorded = {e.message_id: tx.case_by_id(e.case_id).ref for e in events}
    assert len(set(recorded.values())) == 3
    for i in range(3):
        assert recorded[f"<thanks-{i}@agency.example>"] == recorded[f"<summary-1-{i}@police.example>"]
    assert recorded["<thanks-9@agency.example>"] == recorded["<summary-1-0@police.example>"]
    assert all(row.state == "done" and row.case_id is not None for row in batched.ledger_rows())
    assert verify_chain(batched.store) == (True, None)
