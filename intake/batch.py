"""Claiming and recording one fetch batch exactly once (``BatchFiler``), for the watcher's drain.

A batch's new mail is claimed in one committed transaction *before anything of it is recorded*
(``claim``); its claimed messages are then recorded ``RECORD_BATCH`` to a transaction (``record``), each
through the processor (``MessageProcessor.file``). Mail tried before, a repeat within the batch, a
message whose reading failed, and every message of a transaction that failed are claimed or recorded
on their own, so one bad message never costs another its record or its attempts; a message that keeps
failing is quarantined after the ledger's bounded retries, with the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from resdesk.cases import metrics
from resdesk.cases.models import FAILED
from resdesk.cases.store import Store
from resdesk.errors import ResdeskError
from resdesk.intake.filing import CORRELATION_ID, MessageProcessor, correlation_id
from resdesk.intake.headers import ledger_headers
from resdesk.intake.ledger import Claim, Ledger
from resdesk.intake.sources.base import FetchedMessage

__all__ = ["RECORD_BATCH", "BatchFiler", "Claimed"]

log = logging.getLogger("resdesk.watch")

RECORD_BATCH = 50  # messages recorded in one transaction, a whole fetch batch (a kill costs each of them one attempt)


@dataclass
class Claimed:
    """A fetch batch once claimed: claims recorded together, claims recorded alone (tried since the
    ledger was read, out of attempts, or not downloaded), messages to claim and record one at a time
    after them, and the prepared messages of ``together`` as they are read."""

    together: list[tuple[FetchedMessage, Claim]]
    alone: list[tuple[FetchedMessage, Claim]]
    later: list[FetchedMessage]
    ready: object = None  # an iterator over prepare_many's results


class BatchFiler:
    """Claims and records the watcher's fetch batches: ``worker`` is the claims' holder, ``processor``
    reads and files each message (``intake.filing.MessageProcessor``)."""

    def __init__(self, store: Store, ledger: Ledger, processor: MessageProcessor, worker: str):
        self.store, self.ledger, self.processor, self.worker = store, ledger, processor, worker

    @staticmethod
    def split(fetched: list[FetchedMessage], tried: dict[str, str]) -> tuple[list[FetchedMessage], list[FetchedMessage]]:
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

    def claim(self, fetched: list[FetchedMessage], tried: dict[str, str]) -> Claimed:
        """Claim a fetch batch's new mail in one committed transaction (mail tried before, and a
        repeat within the batch, are claimed later, one at a time: ``split``)."""
        if not hasattr(self.processor, "prepare_many"):
            return Claimed([], [], fetched)
        first, later = self.split(fetched, tried)
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
        return Claimed(together, alone, later, ready)

    def record(self, claimed: Claimed) -> list[tuple[FetchedMessage, str]]:
        """Record a claimed batch ``RECORD_BATCH`` messages to a transaction, then the rest one at a
        time; (message, ledger state) for each message handled here."""
        handled = [(item, self._with_claim(item, claim)) for item, claim in claimed.alone]
        for start in range(0, len(claimed.together), RECORD_BATCH):
            chunk = claimed.together[start : start + RECORD_BATCH]
            handled.extend(self._record_together(chunk, [next(claimed.ready) for _ in chunk]))
        handled.extend((f, state) for f in claimed.later if (state := self.handle(f)) is not None)
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

    def handle(self, fetched: FetchedMessage) -> str | None:
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
