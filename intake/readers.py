"""Reading a batch of messages on a second core: one reader process beside the watcher.

Reading a message (parsing it, classifying it, checking its sender, reading its
forms: ``MessageReader.read``) touches no case file, so while the watcher
records one batch in the case file the next can be read in another process.
``ReaderPool.submit(reader, raws, now, trusted)`` hands a batch over at once, ``CHUNK``
messages to a task (each task costs the watcher's executor threads a wake-up), and
gives one ``Read`` a message, whose ``outcome()`` is its ``Reading`` or its refusal
(``Refused``), or the exception a fault raised; ``read_all`` yields them in order.
Given the archive's folder, the reader also stages each message it will keep there
(``Archive.stage``: a temporary file the watcher puts in place, or removes, once it
knows whether the message was claimed), and works out its ledger headers and the
facts it states, so the watcher does not.

The reader is one worker process started with ``spawn`` (it shares no lock,
connection or thread with the watcher), at the first batch of ``POOL_FROM`` or
more messages, and kept until ``close``; it exits by itself within a second of the
watcher's death, however the watcher died. When the watcher needs a message the
reader has not reached yet, it takes back that message's chunk and reads it itself, so neither waits
for the other while work is left. Fewer messages, the usual one or two of a
watcher that is keeping up, are read in the calling process: handing them over
would cost more than it saves. A reader that dies is replaced at the next batch,
and the batch it was reading is read in the calling process.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures import wait as futures_wait
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from resdesk.intake.reading import IntakePolicy, MessageReader, Reading

__all__ = ["POOL_FROM", "Read", "ReaderPool", "read_here"]

log = logging.getLogger("resdesk.watch")

PARENT_CHECK_SECONDS = 1.0
POOL_FROM = 4  # fewer are read here: a hand-over costs a millisecond or two, a reader's start a second
SLOW_START_SECONDS = 30.0  # a reader not started after this is logged (it takes about a second)
DROP_WAIT_SECONDS = 10.0  # how long dropping reads waits for a chunk the reader is reading
CHUNK = 5  # messages handed over together: each hand-over wakes the watcher's executor threads once

_reader: "MessageReader | None" = None  # in the reader process
_archive = None  # in the reader process: the case file's archive, where it stages what it reads


def _start(policy: "IntakePolicy", watcher: int, archive_root: str | None = None) -> None:
    """In the reader, as it starts: ``watcher`` is the process id of the watcher that asked for it,
    which may have died while this process was still starting."""
    from resdesk.intake.reading import MessageReader

    global _reader, _archive
    _reader = MessageReader(policy)
    if archive_root is not None:
        from resdesk.cases.archive import Archive

        _archive = Archive(archive_root)
    threading.Thread(target=_leave_with, args=(watcher,), daemon=True, name="resdesk-reader-parent").start()


def _leave_with(parent: int) -> None:
    """Exit once the watcher that started this reader is gone (killed with SIGKILL, say): an
    orphaned reader would otherwise wait for work for ever."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _ready() -> None:
    """In the reader: nothing; handed over to start the process (``ReaderPool.start``)."""


def _read(raw: bytes, now: datetime, trusted: frozenset[str]):
    """In the reader: (("read", Reading) or ("refused", reason, answerable, answer_to, fields), staged,
    headers), where ``staged`` is the message's copy staged in the archive (``Archive.stage``) when it
    will be archived (mail that is not protocol mail is not), or None for the watcher to archive it,
    and ``headers`` its ledger row's (``intake.headers.ledger_headers``)."""
    from resdesk.intake.headers import ledger_headers
    from resdesk.intake.reading import Refused

    headers = ledger_headers(raw)
    try:
        reading = _reader.read(raw, now=now, trusted=trusted)
    except Refused as refused:  # sent back as plain values: an exception's own attributes do not travel
        return ("refused", refused.reason, refused.answerable, refused.answer_to, refused.fields), _staged(raw), headers
    if reading.classification.kind == "not-protocol":
        return ("read", reading), None, headers
    reading.stated_facts()  # worked out here, for the watcher to record
    return ("read", reading), _staged(raw), headers


def _read_chunk(raws: list[bytes], now: datetime, trusted: frozenset[str]) -> list:
    """In the reader: ``_read`` for each of ``raws``, in order; a message whose reading raised has the
    exception in its place (sent back to the watcher), so one message's fault costs no other its reading."""
    done = []
    for raw in raws:
        try:
            done.append(_read(raw, now, trusted))
        except Exception as exc:  # noqa: BLE001 - this message's own fault, for the watcher to handle
            done.append(exc)
    return done


def _staged(raw: bytes):
    """The message staged in the archive (``Archive.stage_message``: SHA-256, path, temporary file),
    for the watcher to adopt and sync; the watcher works the path out again from the SHA-256 and takes
    only a temporary file beside it. None where staging failed, for the watcher to archive the message
    and report the fault."""
    if _archive is None:
        return None
    try:
        return _archive.stage_message(raw)
    except Exception:  # noqa: BLE001 - the watcher archives it itself, and says why if it cannot
        return None


class ReaderPool:
    """One reader process for a watcher's batches (see the module's notes)."""

    def __init__(self, policy: "IntakePolicy", *, pool_from: int = POOL_FROM, archive_root: str | None = None):
        self.policy = policy
        self.pool_from = pool_from
        self.archive_root = archive_root  # where the reader stages what it reads; None: the watcher archives
        self._pool: ProcessPoolExecutor | None = None
        self._ready: Future | None = None  # the reader's start, when ``start`` began it
        self._started_at = 0.0  # when ``start`` began it (time.monotonic())
        self._told_slow = False

    def read_all(
        self, reader: "MessageReader", raws: list[bytes], now: datetime, trusted: frozenset[str]
    ) -> Iterator["Reading | Exception"]:
        """Each of ``raws`` read, in order: its ``Reading``, or the ``Refused`` or other exception it
        raised. ``reader`` reads in this process when the batch is small or the reader process fails."""
        for read in self.submit(reader, raws, now, trusted):
            yield read.outcome()

    def submit(
        self, reader: "MessageReader", raws: list[bytes], now: datetime, trusted: frozenset[str]
    ) -> list["Read"]:
        """Hand ``raws`` to the reader process at once (a batch of ``pool_from`` or more), without
        waiting: one ``Read`` each, in order, whose ``outcome()`` is ``read_all``'s. A batch handed
        over before the one being recorded is done is read while that one is recorded."""
        if len(raws) < self.pool_from or self._ready is not None and not self._ready.done():
            # A reader still starting would hold the first chunks handed to it (past taking back)
            # until its imports are done; the watcher reads them itself meanwhile.
            if len(raws) >= self.pool_from:
                self._tell_if_slow()
            return [Read(self, reader, raw, now, trusted, None) for raw in raws]
        try:
            pool = self._started()
            reads = []
            for start in range(0, len(raws), CHUNK):
                chunk = raws[start : start + CHUNK]
                handed = _Chunk(pool.submit(_read_chunk, chunk, now, trusted), len(chunk))
                reads.extend(Read(self, reader, raw, now, trusted, handed, pool, index) for index, raw in enumerate(chunk))
            return reads
        except (BrokenProcessPool, RuntimeError, OSError) as exc:
            log.warning("the reader process could not take a batch (%s); reading it here", exc)
            self.close()
            return [Read(self, reader, raw, now, trusted, None) for raw in raws]

    def start(self) -> None:
        """Start the reader process now rather than at the first large batch (it starts in the
        background: this returns at once). Until it is ready, batches are read in the calling process
        (a chunk handed to a reader still importing could be neither read nor taken back). A reader
        that cannot be started is left to the first batch, which then reads in the calling process."""
        try:
            self._ready = self._started().submit(_ready)
            self._started_at, self._told_slow = time.monotonic(), False
        except (BrokenProcessPool, RuntimeError, OSError) as exc:
            log.warning("the reader process could not be started (%s); large batches are read here", exc)
            self.close()

    def _tell_if_slow(self) -> None:
        """Log once if the reader has taken over ``SLOW_START_SECONDS`` to start: until it does, every
        batch is read in the watcher's process, on one core."""
        if not self._told_slow and time.monotonic() - self._started_at > SLOW_START_SECONDS:
            self._told_slow = True
            log.warning("the reader process has not started in %.0f s; the watcher reads every batch itself "
                        "until it does (on one core)", SLOW_START_SECONDS)

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_start,
                initargs=(self.policy, os.getpid(), self.archive_root),
            )
        return self._pool

    def close(self, process: ProcessPoolExecutor | None = None) -> None:
        """Stop the reader process (a new one starts at the next large batch); given ``process``, only
        if that is still the reader (one found stopped, not a reader started since for a later batch)."""
        if process is not None and process is not self._pool:
            return
        if process is not None:
            log.warning("the reader process stopped; reading the rest of its messages here")
        pool, self._pool, self._ready = self._pool, None, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


class _Chunk:
    """Messages handed to the reader together (``CHUNK`` at most): one task, read in order, and how
    many of them are still wanted (once none is, the task is dropped if the reader has not begun it)."""

    __slots__ = ("future", "wanted")

    def __init__(self, future: Future, wanted: int):
        self.future, self.wanted = future, wanted


class Read:
    """One message handed to the reader (``ReaderPool.submit``) as ``index`` of ``chunk``, or with no
    ``chunk`` to be read in this process: its outcome when asked for."""

    __slots__ = ("pool", "reader", "raw", "now", "trusted", "chunk", "process", "index", "staged")

    def __init__(self, pool: ReaderPool | None, reader: "MessageReader", raw: bytes, now: datetime,
                 trusted: frozenset[str], chunk: "_Chunk | None", process: ProcessPoolExecutor | None = None,
                 index: int = 0):
        self.pool, self.reader, self.raw, self.now, self.trusted = pool, reader, raw, now, trusted
        self.chunk, self.process, self.index = chunk, process, index
        self.staged = None  # (SHA-256, path, temporary file) the reader staged in the archive, once read

    def outcome(self) -> "Reading | Exception":
        """The message's ``Reading``, or the ``Refused`` or other exception it raised. If the reader
        has not begun its chunk, the chunk is taken back and its messages are read here as they are
        asked for, so the caller never waits on a queue."""
        chunk, self.chunk = self.chunk, None
        if chunk is None:
            return read_here(self.reader, self.raw, self.now, self.trusted)
        future = chunk.future
        if not future.done() and future.cancel():
            return read_here(self.reader, self.raw, self.now, self.trusted)
        try:
            done = future.result()[self.index]
        except BrokenProcessPool:
            self.pool.close(self.process)
            return read_here(self.reader, self.raw, self.now, self.trusted)
        except CancelledError:  # taken back, or the reader was closed with it queued
            return read_here(self.reader, self.raw, self.now, self.trusted)
        except Exception as exc:  # noqa: BLE001 - the chunk's task failed as a whole (it could not be sent)
            return exc
        if isinstance(done, Exception):
            return done
        result, self.staged, _ = done
        return _outcome(result)

    def ledger_headers(self) -> dict | None:
        """The ledger row's headers (``intake.headers.ledger_headers``) if the reader has read the
        message already, else None (work them out here: nothing waits for the reader)."""
        done = _finished(self.chunk.future) if self.chunk is not None else None
        return None if done is None or isinstance(done[self.index], Exception) else done[self.index][2]

    def cancel(self) -> Future | None:
        """Not wanted after all (its claim went elsewhere): the reader skips its chunk if it has not
        begun it and none of it is wanted, and what it staged in the archive for it is removed, once
        the chunk ends if the reader is reading it. Returns that chunk's future in that case (see
        ``drop``), else None."""
        chunk, self.chunk = self.chunk, None
        self.discard()
        if chunk is None:
            return None
        chunk.wanted -= 1
        if chunk.wanted == 0 and chunk.future.cancel():
            return None
        chunk.future.add_done_callback(functools.partial(_discard_staged, self.index))
        return chunk.future

    @staticmethod
    def drop(reads: "list[Read]", wait_seconds: float = DROP_WAIT_SECONDS) -> None:
        """``cancel`` each of ``reads``, then wait (``wait_seconds`` at most) for the chunks the reader
        is still reading, and remove what they staged: when this returns, no copy staged for them is
        left in the archive (unless the reader took longer; it is removed when its chunk ends)."""
        reading = [(read.index, future) for read in reads if (future := read.cancel()) is not None]
        if not reading:
            return
        futures_wait({future for _, future in reading}, timeout=wait_seconds)
        for index, future in reading:
            _discard_staged(index, future)  # a chunk's done-callback may not have run yet

    def discard(self) -> None:
        """Remove the copy the reader staged in the archive, if it is not to be kept."""
        staged, self.staged = self.staged, None
        _remove_staged(staged)


def _finished(future: Future) -> list | None:
    """What the reader gave for a chunk it has finished, or None (not finished, dropped or failed)."""
    if not future.done() or future.cancelled() or future.exception() is not None:
        return None
    return future.result()


def _discard_staged(index: int, future: Future) -> None:
    """When a chunk holding a message no longer wanted ends: remove what it staged for it."""
    done = _finished(future)
    if done is not None and not isinstance(done[index], Exception):
        _remove_staged(done[index][1])


def _remove_staged(staged: tuple | None) -> None:
    if staged is not None and staged[2] is not None:
        staged[2].unlink(missing_ok=True)


def read_here(reader: "MessageReader", raw: bytes, now: datetime, trusted: frozenset[str]) -> "Reading | Exception":
    """Read one message in this process: its ``Reading``, or the ``Refused`` or other exception it raised."""
    try:
        return reader.read(raw, now=now, trusted=trusted)
    except Exception as exc:  # noqa: BLE001 - Refused, or a fault, handed back in order
        return exc


def _outcome(result):
    from resdesk.intake.reading import Refused

    if result[0] == "read":
        return result[1]
    _, reason, answerable, answer_to, fields = result
    refused = Refused(reason, answerable=answerable, fields=fields)
    refused.answer_to = answer_to
    return refused
