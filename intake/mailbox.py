"""A drain's mailbox work on a thread of its own: fetches and moves run beside the recording.

During a drain of several fetch batches, the watcher waits on the mailbox twice a batch: for the
next batch's FETCH, and for the MOVE of the batch it has just recorded. Neither needs the watcher:
a fetched batch is only read (by the reader process) until it is claimed, and a move comes after
the records of its messages are committed, so a move not yet made is owed and filed by the next
drain (``Watcher._file_owed_moves``). ``MailboxThread`` runs both on one thread, in the order they
were asked for, so the watcher records the next batch while the server answers.

A mail source is used by one thread at a time (``intake.sources.base``): while a drain's
``MailboxThread`` is open, every use of the source goes through it, and ``finish`` (or ``abandon``)
waits until the thread has done everything it was given before the watcher uses the source again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from resdesk.intake.sources.base import FetchedMessage, MailSource, MessageRef

__all__ = ["MailboxThread"]

log = logging.getLogger("resdesk.watch")

T = TypeVar("T")


class MailboxThread:
    """One thread that fetches and moves for a drain, in the order asked (see the module's notes).

    ``source`` is called for the source at the time of each call (the watcher's, which may be
    replaced between drains). Faults of a move are raised by ``check`` once the move is over, or by
    ``finish``; a fetch's by the ``Future`` it returns. Once one call has failed, every call not yet
    begun fails at once with the same fault (a mailbox out of reach is not tried again for each)."""

    def __init__(self, source: Callable[[], MailSource]):
        self._source = source
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="resdesk-mailbox")
        self._moves: list[Future] = []
        self._fault: BaseException | None = None  # the first call's fault, set on the thread

    def _run(self, call: Callable[[], T]) -> T:
        """On the thread: ``call``, unless an earlier call failed (then its fault, at once)."""
        if self._fault is not None:
            raise self._fault
        try:
            return call()
        except BaseException as fault:
            self._fault = fault
            raise

    def fetch(self, uids: list[str], max_bytes: int) -> "Future[list[FetchedMessage]]":
        """Fetch ``uids`` (``MailSource.fetch``, every message at once) once what was asked before is
        done; the ``Future``'s result is the list, or raises the source's ``IntakeError``. Each
        message's SHA-256 (the ledger's key) is worked out on the mailbox's thread too."""
        return self._thread.submit(self._run, lambda: _hashed(list(self._source().fetch(uids, max_bytes))))

    def move(self, refs: list[MessageRef], destination: str) -> None:
        """Move ``refs`` to ``destination`` (``MailSource.move_many``) once what was asked before is
        done; call only after their records are committed."""
        move_many = self._source().move_many
        self._moves.append(self._thread.submit(self._run, lambda: move_many(refs, destination)))

    def check(self) -> None:
        """Raise the fault of the first move that is over and failed (the source's ``IntakeError``,
        say); moves still under way are left to run."""
        while self._moves and self._moves[0].done():
            self._moves.pop(0).result()

    def finish(self) -> None:
        """Wait for everything asked, then stop the thread; raises the first failed move's fault (the
        moves it stopped are owed to the next drain)."""
        moves, self._moves = self._moves, []
        self._stop(cancel=False)
        for move in moves:
            move.result()

    def abandon(self) -> None:
        """Stop the thread once what it is doing now is done, dropping what it has not begun (the drain
        is ending on another fault: a move not made is owed to the next drain, which makes it); a
        failed move is logged, not raised. Does nothing once the thread is stopped."""
        moves, self._moves = self._moves, []
        self._stop(cancel=True)
        faults = {id(fault): fault for move in moves
                  if not move.cancelled() and (fault := move.exception()) is not None}
        for fault in faults.values():
            log.warning("messages were recorded but not yet filed (%s); the next drain files them", fault)

    def _stop(self, *, cancel: bool) -> None:
        """Stop the thread and wait for it, even through an interrupt (Ctrl-C): the source is not used
        by another thread until it has stopped. The interrupt is raised once it has."""
        interrupted = None
        while True:
            try:
                self._thread.shutdown(wait=True, cancel_futures=cancel)
                break
            except KeyboardInterrupt as interrupt:
                interrupted, cancel = interrupt, True
        if interrupted is not None:
            raise interrupted


def _hashed(fetched: list[FetchedMessage]) -> list[FetchedMessage]:
    for item in fetched:
        item.sha256  # noqa: B018 - kept by the message (a cached property) for its claim
    return fetched
