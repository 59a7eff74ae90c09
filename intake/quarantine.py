"""The business unit's decisions on quarantined mail: release it (process it again from the
archived copy, optionally trusting its sender or domain from now on), file it on a chosen
case, or dismiss it.

Each decision is an audit entry naming who made it, when and why; ``UsageError`` is
raised for a message that is not in quarantine, has no archived copy, or a missing
reason. The mailbox's copy stays in the quarantine folder: nothing is ever deleted.
"""

from __future__ import annotations

import hashlib

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import select

from resdesk.cases.models import CLAIMED, DONE, IGNORED, QUARANTINED, Message, TrustedSender
from resdesk.cases.store import Store, Tx
from resdesk.cases.timeline import MESSAGE_RECORDED
from resdesk.errors import UsageError
from resdesk.intake.ledger import Claim, LedgerKey
from resdesk.intake.message import parse_message
from resdesk.intake.sources.base import FetchedMessage, MessageRef
from resdesk.intake.filing import Filing

Trust = Literal["sender", "domain"]


@dataclass(frozen=True)
class Released:
    """What processing a released message again did: its new ledger state, reason and case."""

    state: str
    reason: str | None
    case_ref: str | None


def _reason(reason: str | None) -> str:
    if not (reason or "").strip():
        raise UsageError("A decision on quarantined mail needs a reason; say why it is made.")
    return reason.strip()


def quarantined(tx: Tx) -> list[Message]:
    """Every message held in quarantine, newest first."""
    return list(tx.session.execute(
        select(Message).where(Message.state == QUARANTINED).order_by(Message.id.desc())
    ).scalars())


def _held(tx: Tx, ledger_id: int) -> Message:
    row = tx.session.get(Message, ledger_id)
    if row is None or row.state != QUARANTINED:
        raise UsageError(f"Message {ledger_id} is not in quarantine.")
    return row


def trusted_senders(tx: Tx) -> set[str]:
    """Addresses and domains the business unit has trusted (lower case)."""
    return set(tx.session.execute(select(TrustedSender.value)).scalars())


def _trust(tx: Tx, row: Message, trust: Trust, at: datetime, actor: str) -> str:
    raw = Path(row.archive_path).read_bytes()
    sender = parse_message(raw).sender
    if sender is None:
        raise UsageError(f"Message {row.id} has no sender to trust.")
    value = (sender.address if trust == "sender" else sender.domain).lower()
    if tx.session.get(TrustedSender, value) is None:
        tx.session.add(TrustedSender(value=value, by=actor, at=at))
        tx.session.flush()
    return value


def release(store: Store, processor, ledger_id: int, at: datetime, *, actor: str, reason: str,
            trust: Trust | None = None) -> Released:
    """Process a quarantined message again with ``processor`` (the watcher's ``IntakeProcessor``).

    It may be quarantined again, with the new reason, if what held it still holds.
    """
    reason = _reason(reason)
    worker = f"person:{actor}"
    with store.transaction() as tx:
        row = _held(tx, ledger_id)
        if not row.archive_path or not Path(row.archive_path).exists():
            raise UsageError(f"Message {ledger_id} has no archived copy to process again.")
        trusted = _trust(tx, row, trust, at, actor) if trust else None
        row.state, row.claimed_by, row.claimed_at, row.reason = CLAIMED, worker, at, None
        row.attempts += 1
        claim = Claim(row.id, LedgerKey(row.account, row.folder, row.uidvalidity, row.uid), row.sha256, worker,
                      row.attempts, message_id=row.message_id)
        raw = Path(row.archive_path).read_bytes()
        tx.audit(actor, "quarantine-released", None,
                 {"ledger_id": row.id, "subject_sha256": _subject_hash(row.subject), "by": actor, "reason": reason, "trusted": trusted},
                 at=at)
    fetched = FetchedMessage(MessageRef(row.account, row.folder, row.uidvalidity, row.uid), raw, len(raw), ())
    # A person releasing the message vouches for it: it may change the case it names (intake.authority).
    filing: Filing = processor.process(fetched, claim, vouched_by=actor)
    with store.transaction() as tx:
        after = tx.session.get(Message, ledger_id)
        case = tx.case_by_id(after.case_id) if after.case_id is not None else None
        return Released(filing.state, after.reason,
                        case.ref if case else None)


def file_on_case(tx: Tx, ledger_id: int, ref: str, at: datetime, *, actor: str, reason: str) -> Message:
    """File a quarantined message on a chosen case as it is, without reading it again."""
    reason = _reason(reason)
    row = _held(tx, ledger_id)
    case = tx.require_case(ref)
    row.state, row.case_id, row.completed_at = DONE, case.id, at
    row.reason = f"filed on {case.ref} by {actor}: {reason}"
    tx.add_event(case, MESSAGE_RECORDED, at, stage=case.stage, variant=case.stage_variant, ledger_id=row.id,
                 message_id=row.message_id,
                 detail={"ledger_id": row.id, "classification": "filed-by-person", "subject": row.subject,
                         "sender": row.sender, "message_id": row.message_id, "acknowledge": False,
                         "sha256": row.sha256, "archive": row.archive_path, "by": actor, "reason": reason})
    tx.audit(actor, "quarantine-filed", case.ref, {"ledger_id": row.id, "subject_sha256": _subject_hash(row.subject), "by": actor,
                                                   "reason": reason})
    return row


def dismiss(tx: Tx, ledger_id: int, at: datetime, *, actor: str, reason: str) -> Message:
    """Take a quarantined message off the list: it needs nothing (spam, a duplicate, a test)."""
    reason = _reason(reason)
    row = _held(tx, ledger_id)
    row.state, row.completed_at = IGNORED, at
    row.reason = f"dismissed by {actor}: {reason}"
    tx.audit(actor, "quarantine-dismissed", None, {"ledger_id": row.id, "subject_sha256": _subject_hash(row.subject), "by": actor,
                                                   "reason": reason})
    return row


def _subject_hash(subject: str | None) -> str | None:
    """The audit chain keeps a refused message's subject (which may name a child) only as SHA-256."""
    return None if subject is None else hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()
