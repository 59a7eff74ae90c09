"""Accepting mail from someone not on the case: a person vouches for it, and what it says is recorded.

Mail that names a case but may not change it (``intake.authority``: a sender who is not one of
the case's parties, or whom our mail server could not verify) is filed on the case with a
``message-not-on-case`` event; it changes nothing, is not acknowledged, and puts the case on
the business unit's review list. ``accept(store, processor, ledger_id, at, actor=…, reason=…)``
is the business unit's answer when the message should count: its archived copy is read again
and recorded on the same case exactly as a party's message is (``CaseRecorder.record``: the
stage it reports and its outcome, its forms and facts, its sender and everyone copied as
parties, so their later mail counts too, and the acknowledgement it is owed), dated when the
message was sent, in one unit of work with a ``message-accepted`` event and audit entry naming
who accepted it and why. If the case was on the review list for this message alone, it leaves it.

A message is accepted once, on the case it was filed on, under that case's partnership.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from resdesk.cases.corrections import MERGED, required_reason
from resdesk.cases.models import NEEDS_REVIEW, OPEN, RESOLVED, Case, Event, Message
from resdesk.cases.store import Store, Tx
from resdesk.cases.timeline import MESSAGE_ACCEPTED, MESSAGE_NOT_ON_CASE
from resdesk.cases.timeline import NEEDS_REVIEW as FLAGGED
from resdesk.errors import UsageError
from resdesk.intake.reading import Refused

__all__ = ["Accepted", "accept"]


@dataclass(frozen=True)
class Accepted:
    """What accepting did: the case it was recorded on, and that case's status and stage after."""

    case_ref: str
    status: str
    stage: int | None


def _filed_from_someone_not_on_the_case(tx: Tx, ledger_id: int, processor, ref: str | None) -> tuple[Message, Case]:
    """The received message and the case it was filed on; ``UsageError`` when it cannot be accepted."""
    row = tx.session.get(Message, ledger_id)
    if row is None:
        raise UsageError(f"There is no received message {ledger_id} in the case file.")
    held = tx.session.execute(
        select(Event).where(Event.ledger_id == ledger_id, Event.kind.in_((MESSAGE_NOT_ON_CASE, MESSAGE_ACCEPTED)))
        .order_by(Event.id)
    ).scalars().all()
    if not held or held[0].kind != MESSAGE_NOT_ON_CASE:
        raise UsageError(
            f"Message {ledger_id} was not filed as from someone not on a case, so there is nothing to accept; "
            "its case already records what it says (use 'resdesk act move-message' to file it elsewhere)."
        )
    case = tx.case_by_id(held[0].case_id)
    if ref is not None and case.ref != ref.strip().upper():
        raise UsageError(f"Message {ledger_id} is filed on {case.ref}, not {ref}; accept it there.")
    accepted = [e for e in held if e.kind == MESSAGE_ACCEPTED]
    if accepted:
        raise UsageError(f"Message {ledger_id} was already accepted on {case.ref} by {accepted[0].detail.get('by')}.")
    if case.status == MERGED:
        raise UsageError(f"Case {case.ref} was merged into another case; accept the message there.")
    if case.protocol != processor.protocol.id:
        raise UsageError(
            f"Case {case.ref} follows the {case.protocol} protocol, but these settings run {processor.protocol.id}; "
            f"accept it with that partnership's settings."
        )
    if not row.archive_path or not Path(row.archive_path).is_file():
        raise UsageError(f"Message {ledger_id} has no archived copy to read again.")
    return row, case


def accept(store: Store, processor, ledger_id: int, at: datetime, *, actor: str, reason: str,
           ref: str | None = None) -> Accepted:
    """Record what a message filed from someone not on its case says, vouched for by ``actor``.

    ``processor`` is the watcher's ``IntakeProcessor`` (its reader and recorder, under the
    settings' partnership); ``at`` (UTC) is when the person accepts; ``ref``, when given, is the
    case the person saw it on, and the message must be filed there. The message is recorded
    as of its own date (``Reading.when``), so the stage clock counts from when it was sent.
    Raises ``UsageError`` for a missing reason, a message not filed as from someone not on a
    case (or not on ``ref``), one already accepted, a case merged away or of another partnership, a message with
    no archived copy, or one that reading again now refuses (the reason is given).
    """
    reason = required_reason(reason)
    with store.transaction() as tx:
        row, _ = _filed_from_someone_not_on_the_case(tx, ledger_id, processor, ref)
        raw = Path(row.archive_path).read_bytes()
    try:
        reading = processor.reader.read(raw, now=at)
    except Refused as refused:
        raise UsageError(f"Message {ledger_id} cannot be accepted: read again, it is refused: {refused.reason}") from None
    with store.transaction() as tx:  # checked again: another person may have accepted it meanwhile
        row, case = _filed_from_someone_not_on_the_case(tx, ledger_id, processor, ref)
        flagged = tx.session.execute(
            select(Event.detail).where(Event.case_id == case.id, Event.kind == FLAGGED,
                                       Event.message_id == row.message_id).order_by(Event.id.desc()).limit(1)
        ).scalar_one_or_none() if row.message_id else None
        processor.recorder.record(tx, case, reading, row.id, row.sha256, row.archive_path)
        review_cleared = bool(flagged) and case.review_reason == flagged.get("reason")
        if review_cleared:  # on the list for this message alone: accepting it answers that
            case.review_reason = None
            if case.status == NEEDS_REVIEW:
                case.status = RESOLVED if case.resolved_at else OPEN
        detail = {"by": actor, "reason": reason, "ledger_id": row.id, "message_id": row.message_id,
                  "sender": reading.message.sender.address if reading.message.sender else None,
                  "review_cleared": review_cleared}
        tx.add_event(case, MESSAGE_ACCEPTED, at, stage=case.stage, variant=case.stage_variant,
                     message_id=row.message_id, ledger_id=row.id, detail=detail)
        tx.audit(actor, MESSAGE_ACCEPTED, case.ref, detail, at=at)
        return Accepted(case.ref, case.status, case.stage)
