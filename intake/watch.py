"""The watch loop: drain a mailbox exactly once per message, then wait for more.

One pass (``Watcher.drain``):

1. take the folder's UIDVALIDITY and UIDs (``snapshot``); a changed UIDVALIDITY is
   recorded and alerted, and old ledger rows stay keyed by the old one;
2. file anything the ledger finished but a crash left in the folder (the move
   happens after the commit, so it can be owed);
3. for every UID the ledger has not finished, a fetch batch at a time: claim the
   batch in one committed transaction *before anything of it is recorded*, fetch the
   next batch and hand it to the processor's reader (``read_ahead``: reading records
   nothing, so it overlaps this batch's recording), record up to ``RECORD_BATCH`` of
   this batch's messages, completing their claims, in one transaction; then move
   them to the processed or quarantine folder. Mail that is not protocol mail stays where it is. Mail tried
   before, and every message of a batch whose transaction failed, is recorded on
   its own, so one bad message never costs another its record or its attempts.

A worker must hold the mailbox's lease to drain it, so two watchers on one
mailbox never work side by side: the second waits until the first stops. Nothing
is ever deleted, and a message that keeps failing is quarantined after the
ledger's bounded retries, with the reason.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select

from resdesk.cases import metrics
from resdesk.cases import leases
from resdesk.cases.holders import holder_name
from resdesk.cases.models import DONE, FAILED, IGNORED, QUARANTINED, Message
from resdesk.cases.store import Store
from resdesk.intake.filing import CORRELATION_ID, DrainReport, MessageProcessor, correlation_id
from resdesk.intake.ledger import Claim, Ledger
from resdesk.intake.headers import ledger_headers
from resdesk.intake.sources.base import FetchedMessage, MailSource, MessageRef
from resdesk.errors import IntakeError, ResdeskError

log = logging.getLogger("resdesk.watch")

FETCH_BATCH = 50
RECORD_BATCH = 25  # messages recorded in one transaction (a kill costs each of them one attempt)


@dataclass
class _Claimed:
    """A fetch batch once claimed: claims recorded together, claims recorded alone (tried since the
    ledger was read, out of attempts, or not downloaded), messages to claim and record one at a time
    after them, and the prepared messages of ``together`` as they are read."""

    together: list[tuple[FetchedMessage, Claim]]
    alone: list[tuple[FetchedMessage, Claim]]
    later: list[FetchedMessage]
    ready: object = None  # an iterator over prepare_many's results


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
        self.processor = processor
        self.ledger = ledger or Ledger(store)
        self.worker = worker or default_worker_name()
        self.processed_folder = processed_folder
        self.quarantine_folder = quarantine_folder
        self.max_bytes = max_bytes
        self.lease_seconds = lease_seconds
        self.lease_name = f"mailbox:{source.account}:{source.folder}"
        self.waiting = False  # True while idling for new mail

    # -- the lease -------------------------------------------------------------------------

    def acquire(self) -> bool:
        """Take the mailbox's lease; on taking it, claims left by a stopped worker become retryable.

        A lease held by a watcher process on this machine that no longer runs is
        taken over at once rather than waited out.
        """
        if not leases.take(self.store, self.lease_name, self.worker, self.lease_seconds):
            return False
        released = self.ledger.reclaim_abandoned(self.source.account, self.source.folder, self.worker)
        if released:
            log.warning("%d message(s) left unfinished by a stopped watcher will be retried", released)
        return True

    def renew(self) -> bool:
        return leases.renew(self.store, self.lease_name, self.worker, self.lease_seconds)

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
        try:
            fetched = self._read_ahead(list(self.source.fetch(batches[0], self.max_bytes)), known) if batches else []
            for number, batch in enumerate(batches):
                if not self.renew():
                    raise IntakeError(
                        f"The lease on {self.lease_name} was taken by another watcher; stopping so that no message "
                        "is handled twice."
                    )
                if stop is not None and stop.is_set():
                    break  # asked to stop: the rest waits for the next run, unclaimed
                # The next batch is fetched before this one is claimed (a mailbox that fails then leaves
                # nothing claimed), and handed to the reader once it is, so it is read while this one is
                # recorded; it is claimed only once this one is recorded and filed.
                upcoming = (list(self.source.fetch(batches[number + 1], self.max_bytes))
                            if number + 1 < len(batches) else None)
                claimed = self._claim_fetched(fetched, known)
                if upcoming is not None:
                    fetched = self._read_ahead(upcoming, known)
                to_file: dict[str, list[MessageRef]] = {}
                for item, state in self._record_claimed(claimed):
                    report.filed[state] += 1
                    destination = self._destination(state)
                    if destination is not None:
                        to_file.setdefault(destination, []).append(item.ref)
                # Filed after their records are committed: a crash in between leaves the moves owed,
                # and the next drain makes them (see _file_owed_moves).
                for destination, refs in to_file.items():
                    self.source.move_many(refs, destination)
                done += len(batch)
                if progress:  # UIDs that vanished meanwhile count as passed
                    progress(done, len(todo))
                if after_batch is not None:
                    after_batch(report)
        finally:
            if hasattr(self.processor, "read_ahead"):
                self.processor.read_ahead([])  # what was read ahead for a batch left unclaimed
        return report

    def _read_ahead(self, fetched: list[FetchedMessage], tried: dict[str, str]) -> list[FetchedMessage]:
        """Hand what of a fetched batch will be claimed together to the processor's reader at once
        (``processor.read_ahead``, where it has one): reading records nothing, so it may begin before
        the claim; what is recorded still waits for it. Returns ``fetched``."""
        if hasattr(self.processor, "read_ahead"):
            first, _ = self._split(fetched, tried)
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

    @staticmethod
    def _split(fetched: list[FetchedMessage], tried: dict[str, str]) -> tuple[list[FetchedMessage], list[FetchedMessage]]:
        """(claimed together, handled one at a time): mail the ledger has seen (``tried``: its worker
        stopped or it failed; it may be the cause, and must not cost others their attempts) and a
        message whose content repeats earlier in the batch (matched as a duplicate only once the
        first is complete) go one at a time."""
        seen: set[str | None] = set()
        first, later = [], []
        for item in fetched:
            sha256 = item.sha256
            if str(item.ref.uid) in tried or (sha256 is not None and sha256 in seen):
                later.append(item)
            else:
                first.append(item)
            seen.add(sha256)
        return first, later

    def _claim_fetched(self, fetched: list[FetchedMessage], tried: dict[str, str]) -> "_Claimed":
        """Claim a fetch batch's new mail in one committed transaction (mail tried before, and a
        repeat within the batch, are claimed later, one at a time: ``_split``)."""
        if not hasattr(self.processor, "prepare_many"):
            return _Claimed([], [], fetched)
        first, later = self._split(fetched, tried)
        headers = getattr(self.processor, "ledger_headers", None) or (lambda item: ledger_headers(item.raw))
        wanted = [(item.ref, item.sha256, {"received_at": datetime.now(timezone.utc), **headers(item)})
                  for item in first]
        claims = self.ledger.claim_many(wanted, self.worker)
        alone: list[tuple[FetchedMessage, Claim]] = []
        together: list[tuple[FetchedMessage, Claim]] = []
        for item, claim in zip(first, claims):
            if claim is None:
                continue  # finished meanwhile, or held by a live claim
            if claim.exhausted or claim.attempts > 1 or item.raw is None:  # tried since the ledger was read; too big
                alone.append((item, claim))
            else:
                together.append((item, claim))
        # Read all of them at once (in the reader process, when there is one), recording each
        # RECORD_BATCH as soon as it is read, while the rest are still being read.
        ready = self.processor.prepare_many([item for item, _ in together])
        return _Claimed(together, alone, later, ready)

    def _record_claimed(self, claimed: "_Claimed") -> list[tuple[FetchedMessage, str]]:
        """Record a claimed batch ``RECORD_BATCH`` messages to a transaction, then the rest one at a
        time; (message, ledger state) for each message handled here."""
        handled = [(item, self._with_claim(item, claim)) for item, claim in claimed.alone]
        for start in range(0, len(claimed.together), RECORD_BATCH):
            chunk = claimed.together[start : start + RECORD_BATCH]
            handled.extend(self._record_together(chunk, [next(claimed.ready) for _ in chunk]))
        handled.extend((f, state) for f in claimed.later if (state := self._handle(f)) is not None)
        return handled

    def _record_together(self, items: list[tuple[FetchedMessage, Claim]], prepared: list) -> list[tuple[FetchedMessage, str]]:
        """Record claimed messages, prepared (``processor.prepare_many``), in one transaction
        (``processor.file`` for each); if it fails, each is recorded again on its own, so one bad
        message costs no other its record. A message whose preparing failed is recorded on its own."""
        alone = [(item, claim) for (item, claim), ready in zip(items, prepared) if isinstance(ready, Exception)]
        batch = [(item, claim, ready) for (item, claim), ready in zip(items, prepared) if not isinstance(ready, Exception)]
        states: list[tuple[FetchedMessage, str]] = []
        try:
            # The batch's archived copies are flushed to disk while it is recorded, and are durable
            # before the commit that refers to them (a failed flush rolls the batch back).
            syncing = self.store.sync_archive_begin()
            with self.store.transaction() as tx:
                for item, claim, ready in batch:
                    token = CORRELATION_ID.set(correlation_id(item.ref))
                    try:
                        filing = self.processor.file(tx, item, claim, ready)
                    finally:
                        CORRELATION_ID.reset(token)
                    states.append((item, filing.state))
                syncing.result()
        except Exception:  # noqa: BLE001 - nothing of the batch was written: each is tried on its own
            log.warning("a batch of %d message(s) could not be recorded together; recording each on its own",
                        len(batch))
            states = []
            alone = [(item, claim) for item, claim, _ in batch] + alone
        for item, state in states:
            metrics.MESSAGES_FILED.labels(state).inc()
            token = CORRELATION_ID.set(correlation_id(item.ref))
            try:
                log.debug("message %s filed: %s", item.ref.uid, state)
            finally:
                CORRELATION_ID.reset(token)
        states.extend((item, self._with_claim(item, claim)) for item, claim in alone)
        return states

    def _handle(self, fetched: FetchedMessage) -> str | None:
        """Claim and record one message on its own; None if it is finished or held by a live claim."""
        claim = self.ledger.claim(
            fetched.ref, fetched.sha256, self.worker, received_at=datetime.now(timezone.utc),
            **ledger_headers(fetched.raw),
        )
        if claim is None:
            return None  # finished meanwhile, or held by a live claim
        return self._with_claim(fetched, claim)

    def _with_claim(self, fetched: FetchedMessage, claim: Claim) -> str:
        """Record one claimed message in its own transaction; a failure leaves it retryable."""
        token = CORRELATION_ID.set(correlation_id(fetched.ref))
        try:
            return self._record_alone(fetched, claim)
        finally:
            CORRELATION_ID.reset(token)

    def _record_alone(self, fetched: FetchedMessage, claim: Claim) -> str:
        try:
            if claim.exhausted:
                filing = self.processor.quarantine(fetched, claim, claim.reason or "failed too many times")
            else:
                filing = self.processor.process(fetched, claim)
        except Exception as exc:  # noqa: BLE001 - any failure must leave the message retryable, not lost
            reason = str(exc) if isinstance(exc, ResdeskError) else f"{type(exc).__name__}: {exc}"
            # The reason can quote the message (a name, a date of birth): it goes to the ledger only.
            log.error(
                "message %s failed (attempt %d, %s); the reason is in its ledger row",
                fetched.ref.uid, claim.attempts, type(exc).__name__,
            )
            with self.store.transaction() as tx:
                self.ledger.complete(tx, claim, FAILED, reason)
            metrics.MESSAGES_FILED.labels(FAILED).inc()
            return FAILED
        metrics.MESSAGES_FILED.labels(filing.state).inc()
        log.debug("message %s filed: %s", fetched.ref.uid, filing.state)
        return filing.state

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
    for state, count in report.filed.items():
        total.filed[state] = total.filed.get(state, 0) + count

