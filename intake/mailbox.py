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

from resdesk.intake.sources.base import FetchedMessage, MailSource, MessageRef

__all__ = ["MailboxThread"]

log = logging.getLogger("resdesk.watch")


class MailboxThread:
    """One thread that fetches and moves for a drain, in the order asked (see the module's notes).

    ``source`` is called for the source at the time of each call (the watcher's, which may be
    replaced between drains). Faults of a move are raised by ``check`` once the move is over, or by
    ``finish``; a fetch's by the ``Future`` it returns."""

    def __init__(self, source: Callable[[], MailSource]):
        self._source = source
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="resdesk-mailbox")
        self._moves: list[Future] = []

    def fetch(self, uids: list[str], max_bytes: int) -> "Future[list[FetchedMessage]]":
        """Fetch ``uids`` (``MailSource.fetch``, every message at once) once what was asked before is
        done; the ``Future``'s result is the list, or raises the source's ``IntakeError``."""
        return self._thread.submit(lambda: list(self._source().fetch(uids, max_bytes)))

    def move(self, refs: list[MessageRef], destination: str) -> None:
        """Move ``refs`` to ``destination`` (``MailSource.move_many``) once what was asked before is
        done; call only after their records are committed."""
        self._moves.append(self._thread.submit(self._source().move_many, refs, destination))

    def check(self) -> None:
        """Raise the fault of the first move that is over and failed (the source's ``IntakeError``,
        say); moves still under way are left to run."""
        while self._moves and self._moves[0].done():
            self._moves.pop(0).result()

    def finish(self) -> None:
        """Wait for everything asked, then stop the thread; raises the first failed move's fault (the
        rest of the moves are made, or owed to the next drain)."""
        moves, self._moves = self._moves, []
        self._thread.shutdown(wait=True)
        for move in moves:
            move.result()

    def abandon(self) -> None:
        """Stop the thread once what it is doing now is done, dropping what it has not begun (the drain
        is ending on another fault: a move not made is owed to the next drain, which makes it); a
        failed move is logged, not raised. Does nothing once the thread is stopped."""
        moves, self._moves = self._moves, []
        self._thread.shutdown(wait=True, cancel_futures=True)
        for move in moves:
            fault = None if move.cancelled() else move.exception()
            if fault is not None:
                log.warning("messages were recorded but not yet filed (%s); the next drain files them", fault)
