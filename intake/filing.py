"""What the watcher and its processor say to each other: the processor's interface
(``MessageProcessor``), what it decided for a message (``Filing``), what a drain did
(``DrainReport``), and the correlation id that log lines carry while a message is handled."""

from __future__ import annotations

import contextvars
import hashlib
from dataclasses import dataclass, field
from typing import Protocol as Interface

from resdesk.cases.models import DONE, FAILED, IGNORED, QUARANTINED
from resdesk.intake.ledger import Claim
from resdesk.intake.sources.base import FetchedMessage, MessageRef

__all__ = ["CORRELATION_ID", "DrainReport", "Filing", "MessageProcessor", "correlation_id"]

CORRELATION_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("resdesk_correlation_id", default=None)
"""The message in hand: a digest of its ledger key (account, folder, UIDVALIDITY, UID), the same on every
attempt; log lines written while it is handled carry it, and nothing that names the child."""


def correlation_id(ref: MessageRef) -> str:
    """``CORRELATION_ID``'s value for a message: ``msg-`` and 16 hex digits."""
    key = f"{ref.account}\0{ref.folder}\0{ref.uidvalidity}\0{ref.uid}"
    return "msg-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]

@dataclass(frozen=True)
class Filing:
    """What the processor decided for one message: the ledger state and why."""

    state: str  # done, quarantined or ignored
    reason: str | None = None


class MessageProcessor(Interface):
    """Records one claimed message; completes the claim in the same transaction."""

    def process(self, fetched: FetchedMessage, claim: Claim) -> Filing: ...

    def quarantine(
        self, fetched: FetchedMessage | None, claim: Claim, reason: str, *, answer_to: str | None = None
    ) -> Filing: ...


@dataclass
class DrainReport:
    """What one drain (or a run of them) did: messages seen, how many were filed in each ledger
    state, moves owed from an earlier run made, whether the folder's UIDVALIDITY changed, and the
    wall seconds it took, from the folder's snapshot to its last move (the watcher's monotonic
    clock; a run's drains added up)."""

    seen: int = 0
    filed: dict[str, int] = field(default_factory=lambda: {DONE: 0, QUARANTINED: 0, IGNORED: 0, FAILED: 0})
    moved_late: int = 0
    uidvalidity_changed: bool = False
    seconds: float = 0.0
