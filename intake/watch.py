"""The watch loop: drain a mailbox exactly once per message, then wait for more.

One pass (``Watcher.drain``):

1. take the folder's UIDVALIDITY and UIDs (``snapshot``); a changed UIDVALIDITY is
   recorded and alerted, and old ledger rows stay keyed by the old one;
2. file anything the ledger finished but a crash left in the folder (the move
   happens after the commit, so it can be owed);
3. for every UID the ledger has not finished, a fetch batch at a time: claim the
   batch in one committed transaction *before anything of it is recorded*; record the
   batch's messages, completing their claims, ``RECORD_BATCH`` to a transaction
   (``intake.batch.BatchFiler``). The batch ``READ_AHEAD`` on, fetched on the mailbox's own
   thread (``intake.mailbox``) while the one before was recorded, is handed to the
   processor's reader once this one is claimed (``read_ahead``: reading records nothing, so
   it overlaps the recording of the batches before it). The recorded messages are then
   moved to the processed or quarantine folder, on the mailbox's thread while the next
   batch is recorded.
   Mail that is not protocol mail stays where it is. Mail tried before, and every message
   of a transaction that failed, is recorded on its own, so one bad message never costs
   another its record or its attempts.

A worker must hold the mailbox's lease to drain it, so two watchers on one
mailbox never work side by side: the second waits until the first stops. Nothing
is ever deleted, and a message that keeps failing is quarantined after the
ledger's bounded retries, with the reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import select

from resdesk.cases import leases
from resdesk.cases.holders import holder_name
from resdesk.cases.models import DONE, FAILED, IGNORED, QUARANTINED, Message
from resdesk.cases.store import Store
from resdesk.intake.batch import BatchFiler
from resdesk.intake.filing import DrainReport, MessageProcessor
from resdesk.intake.ledger import Ledger
from resdesk.intake.mailbox import MailboxThread
from resdesk.intake.sources.base import FetchedMessage, MailSource, MessageRef
from resdesk.errors import IntakeError

log = logging.getLogger("resdesk.watch")

FETCH_BATCH = 50
READ_AHEAD = 2  # fetch batches handed to the reader before they are claimed


ProgressCallback = Callable[[int, int], None]


def default_worker_name() -> str:
    return holder_name(threading.get_ident())


class Watcher:
    """Drains one mail source into the case file, holding the mailbox's lease."""

    def __init__(
        self,
        source: MailSource,
        store: Store,
        processor: MessageProcessor,
        *,
        processed_folder: str,
        quarantine_folder: str,
        max_bytes: int,
        ledger: Ledger | None = None,
        worker: str | None = None,
        lease_seconds: float = 60.0,
    ):
        self.source = source
        self.store = store
        self.ledger = ledger or Ledger(store)
        self.worker = worker or default_worker_name()
        self.filer = BatchFiler(store, self.ledger, processor, self.worker)
        self.processed_folder = processed_folder
        self.quarantine_folder = quarantine_folder
        self.max_bytes = max_bytes
        self.lease_seconds = lease_seconds
        self.lease_name = f"mailbox:{source.account}:{source.folder}"
        self.waiting = False  # True while idling for new mail
        self._renewed = float("-inf")  # when the lease was last taken or renewed (time.monotonic())

    @property
    def processor(self) -> MessageProcessor:
        """What reads and files each message (``intake.filing.MessageProcessor``)."""
        return self.filer.processor

    @processor.setter
    def processor(self, processor: MessageProcessor) -> None:
        self.filer.processor = processor

    # -- the lease -------------------------------------------------------------------------

    def acquire(self) -> bool:
        """Take the mailbox's lease; on taking it, claims left by a stopped worker become retryable.

        A lease held by a watcher process on this machine that no longer runs is
        taken over at once rather than waited out.
        """
        asked = time.monotonic()  # read first: the lease runs from no earlier than this
        if not leases.take(self.store, self.lease_name, self.worker, self.lease_seconds):
            return False
        self._renewed = asked
        released = self.ledger.reclaim_abandoned(self.source.account, self.source.folder, self.worker)
        if released:
            log.warning("%d message(s) left unfinished by a stopped watcher will be retried", released)
        return True

    def renew(self) -> bool:
        """Extend the lease to ``lease_seconds`` from now; False if another watcher took it over."""
        asked = time.monotonic()
        renewed = leases.renew(self.store, self.lease_name, self.worker, self.lease_seconds)
        if renewed:
            self._renewed = asked
        return renewed

    def _still_holds_lease(self) -> bool:
        """Before a batch is claimed: does this watcher still hold the lease? It is renewed once a
        quarter of its term has passed since it was last taken or renewed (seconds on this process's
        monotonic clock, which counts time the process spent stopped), so it can never lapse while the
        watcher works, and a watcher held up past its term finds out; not a committed write a batch."""
        if time.monotonic() - self._renewed < self.lease_seconds / 4:
            return True
        return self.renew()

    def release(self) -> None:
        leases.release(self.store, self.lease_name, self.worker)

    # -- one pass ----------------------------------------------------------------------------

    def drain(
        self, progress: ProgressCallback | None = None, stop: threading.Event | None = None,
        after_batch: Callable[[DrainReport], None] | None = None,
    ) -> DrainReport:
        """Handle every message in the folder that the ledger has not finished, a fetch batch at a
        time, the next batch read while one is recorded; ``after_batch`` is called once each batch is
        recorded and filed (so what it owes, such as acknowledgements, can go before the next batch is
        claimed). Raises ``IntakeError`` when the mailbox fails or another watcher took the lease."""
        report = DrainReport()
        started = time.monotonic()
        uidvalidity, uids = self.source.snapshot()
        change = self.ledger.check_uidvalidity(self.source.account, self.source.folder, uidvalidity)
        if change is not None:
            report.uidvalidity_changed = True
            log.warning(
                "UIDVALIDITY of %s/%s changed from %s to %s: the folder was recreated; every message in it is "
                "examined again and matched by content",
                change.account, change.folder, change.previous, change.current,
            )
        known = self._ledger_states(uidvalidity, uids)
        finished = {uid: state for uid, state in known.items() if state in (DONE, QUARANTINED, IGNORED)}
        report.moved_late = self._file_owed_moves(uidvalidity, finished)
        # New mail first; mail tried before (its worker stopped or it failed) after it, so one
        # troublesome message neither holds up the rest nor uses up its retries on every restart.
        todo = [uid for uid in uids if uid not in known] + [uid for uid in uids if uid in known and uid not in finished]
        report.seen = len(todo)
        if progress:
            progress(0, len(todo))
        batches = [todo[start : start + FETCH_BATCH] for start in range(0, len(todo), FETCH_BATCH)]
        done = 0
        mailbox = MailboxThread(lambda: self.source)  # the source is used on its thread until the drain ends
        try:
            # READ_AHEAD batches are with the reader at any time: the one to be claimed next and the
            # ones after it, so it has the next to read whenever it finishes one, and the watcher finds
            # its readings done, however the time each takes varies.
            ahead = [self._read_ahead(mailbox.fetch(batch, self.max_bytes).result(), known)
                     for batch in batches[:READ_AHEAD]]
            fetching = self._fetch_on(mailbox, batches, READ_AHEAD)  # taken before the first claim
            for number, batch in enumerate(batches):
                if not self._still_holds_lease():
                    raise IntakeError(
                        f"The lease on {self.lease_name} was taken by another watcher; stopping so that no message "
                        "is handled twice."
                    )
                if stop is not None and stop.is_set():
                    break  # asked to stop: the rest waits for the next run, unclaimed
                mailbox.check()  # a move that failed stops the drain before another batch is claimed
                # The batch READ_AHEAD on was fetched on the mailbox's thread while the one before this was
                # recorded; it is taken before this one is claimed (a mailbox that fails then leaves
                # nothing claimed), and handed to the reader once it is, so it is read while this one and
                # the next are recorded. Each batch is claimed only once the one before it is recorded.
                upcoming = fetching.result() if fetching is not None else None
                claimed = self.filer.claim(ahead.pop(0), known)
                if upcoming is not None:
                    ahead.append(self._read_ahead(upcoming, known))
                fetching = self._fetch_on(mailbox, batches, number + READ_AHEAD + 1)  # while this one is recorded
                to_file: dict[str, list[MessageRef]] = {}
                for item, state in self.filer.record(claimed):
                    report.filed[state] += 1
                    destination = self._destination(state)
                    if destination is not None:
                        to_file.setdefault(destination, []).append(item.ref)
                # Filed after their records are committed, on the mailbox's thread while the next batch is
                # recorded: a crash in between leaves the moves owed, and the next drain makes them
                # (see _file_owed_moves).
                for destination, refs in to_file.items():
                    mailbox.move(refs, destination)
                done += len(batch)
                if progress:  # UIDs that vanished meanwhile count as passed
                    progress(done, len(todo))
                if after_batch is not None:
                    after_batch(report)
            mailbox.finish()
            report.seconds = time.monotonic() - started
        finally:
            mailbox.abandon()  # after a fault: moves not begun are owed to the next drain
            if hasattr(self.processor, "drop_read_ahead"):
                self.processor.drop_read_ahead()  # what was read ahead for batches left unclaimed
        return report

    def _fetch_on(self, mailbox: MailboxThread, batches: list[list[str]], number: int):
        """Batch ``number`` fetched on the mailbox's thread (a ``Future`` of its messages), or None past
        the last batch."""
        return mailbox.fetch(batches[number], self.max_bytes) if number < len(batches) else None

    def _read_ahead(self, fetched: list[FetchedMessage], tried: dict[str, str]) -> list[FetchedMessage]:
        """Hand what of a fetched batch will be claimed together to the processor's reader at once
        (``processor.read_ahead``, where it has one): reading records nothing, so it may begin before
        the claim; what is recorded still waits for it. Returns ``fetched``."""
        if hasattr(self.processor, "read_ahead"):
            first, _ = self.filer.split(fetched, tried)
            self.processor.read_ahead([item for item in first if item.raw is not None])
        return fetched

    def _ledger_states(self, uidvalidity: int, uids: list[str]) -> dict[str, str]:
        """Ledger state of every UID in the folder that the ledger has seen."""
        if not uids:
            return {}
        wanted = set(uids)
        with self.store.transaction() as tx:
            rows = tx.session.execute(
                select(Message.uid, Message.state).where(
                    Message.account == self.source.account,
                    Message.folder == self.source.folder,
                    Message.uidvalidity == str(uidvalidity),
                )
            ).all()
        return {uid: state for uid, state in rows if uid in wanted}

    def _file_owed_moves(self, uidvalidity: int, finished: dict[str, str]) -> int:
        owed: dict[str, list[MessageRef]] = {}
        for uid, state in finished.items():
            destination = self._destination(state)
            if destination is not None:
                owed.setdefault(destination, []).append(
                    MessageRef(self.source.account, self.source.folder, uidvalidity, uid)
                )
        for destination, refs in owed.items():
            self.source.move_many(refs, destination)
        moved = sum(len(refs) for refs in owed.values())
        if moved:
            log.info("filed %d message(s) whose move was owed from an earlier run", moved)
        return moved

    def _destination(self, state: str) -> str | None:
        return {DONE: self.processed_folder, QUARANTINED: self.quarantine_folder}.get(state)

    # -- the loop ----------------------------------------------------------------------------

    def run(
        self,
        *,
        once: bool = False,
        stop: threading.Event | None = None,
        after_drain: Callable[[DrainReport], None] | None = None,
        after_batch: Callable[[DrainReport], None] | None = None,
        progress: ProgressCallback | None = None,
        wait_seconds: float = 5.0,
    ) -> DrainReport:
        """Drain, then wait for mail and drain again, until ``stop`` is set (or once, with ``once``).
        ``after_batch`` is called after each fetch batch is recorded, ``after_drain`` after each drain.

        With ``once``, passes repeat while they make progress, so a message that
        failed gets its bounded retries before the command exits.
        """
        stop = stop or threading.Event()
        total = DrainReport()
        while not self.acquire():
            if once and stop.is_set():
                return total
            log.info("another watcher holds %s; waiting", self.lease_name)
            if stop.wait(min(self.lease_seconds / 4, 5.0)):
                return total
        try:
            failures = 0
            while not stop.is_set():
                try:
                    report = self.drain(progress=progress, stop=stop, after_batch=after_batch)
                except IntakeError as exc:
                    if once:
                        raise
                    failures += 1
                    delay = min(wait_seconds * 2 ** min(failures, 6), 300.0)
                    log.error("the mailbox could not be drained (%s); trying again in %.0f s", exc, delay)
                    stop.wait(delay)
                    continue
                failures = 0
                _accumulate(total, report)
                if after_drain is not None:
                    after_drain(report)
                if once:
                    if report.filed[FAILED] == 0:
                        break
                    continue
                self.renew()
                self.waiting = True  # the only moment a stop may interrupt: no transaction is open
                try:
                    if stop.is_set():  # asked to stop while busy: do not start waiting
                        break
                    self.source.wait(wait_seconds)
                finally:
                    self.waiting = False
        finally:
            self.release()
        return total


def _accumulate(total: DrainReport, report: DrainReport) -> None:
    total.seen += report.seen
    total.moved_late += report.moved_late
    total.uidvalidity_changed |= report.uidvalidity_changed
    total.seconds += report.seconds
    for state, count in report.filed.items():
        total.filed[state] = total.filed.get(state, 0) + count

