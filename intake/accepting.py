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
who accepted it and why. If the case was on the review list for this message alone, it leaves it;
while another held message waits, that message's reason becomes the case's.

A message is accepted once (two people at once: the message's row is held, and the second is
refused), on the case it is filed on (moved there or not), under that case's partnership.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import or_, select

from resdesk.cases.corrections import MERGED, required_reason
from resdesk.cases.models import NEEDS_REVIEW, OPEN, RESOLVED, Case, Event, Message
from resdesk.cases.store import Store, Tx
from resdesk.cases.timeline import MESSAGE_ACCEPTED, MESSAGE_NOT_ON_CASE, awaiting_acceptance
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


def _filed_from_someone_not_on_the_case(tx: Tx, ledger_id: int, processor, ref: str | None, *,
                                        lock: bool = False) -> tuple[Message, Case, datetime]:
    """The received message, the case it was filed on and the time it was filed as of (its date, or
    when it was received when it had no usable one); ``UsageError`` when it cannot be accepted.
    With ``lock``, the message's row is held (``FOR UPDATE``) until the unit of work ends, so two people
    accepting it at once take turns and the second sees the first's acceptance."""
    row = tx.session.get(Message, ledger_id, with_for_update=lock)
    if row is None:
        raise UsageError(f"There is no received message {ledger_id} in the case file.")
    if row.case_id is None:
        raise UsageError(
            f"Message {ledger_id} is on no case ({row.state}{': ' + row.reason if row.reason else ''}), so there is "
            "nothing to accept: quarantined mail is released or filed with 'resdesk quarantine', other mail is "
            "filed on a case with 'resdesk act move-message'."
        )
    held = tx.session.execute(
        select(Event).where(Event.ledger_id == ledger_id, Event.kind.in_((MESSAGE_NOT_ON_CASE, MESSAGE_ACCEPTED)))
        .order_by(Event.id)
    ).scalars().all()
    if not held or held[0].kind != MESSAGE_NOT_ON_CASE:
        raise UsageError(
            f"Message {ledger_id} was not filed as from someone not on a case, so there is nothing to accept: "
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
    return row, case, held[0].at


def _flag_reason(tx: Tx, case: Case, ledger_id: int, message_id: str | None) -> str | None:
    """The reason the case was put on the review list for this held message (its ``needs-review``
    event: by ledger id, or by Message-ID for one flagged before flags named their ledger id)."""
    mine = Event.ledger_id == ledger_id
    if message_id:
        mine = or_(mine, (Event.ledger_id.is_(None)) & (Event.message_id == message_id))
    detail = tx.session.execute(
        select(Event.detail).where(Event.case_id == case.id, Event.kind == FLAGGED, mine)
        .order_by(Event.id.desc()).limit(1)
    ).scalar_one_or_none()
    return detail.get("reason") if detail else None


def _still_held(tx: Tx, case: Case, accepting: int) -> list[Message]:
    """The case's other messages from someone not on it that no one has accepted, newest last."""
    return [tx.session.get(Message, ledger) for ledger in sorted(awaiting_acceptance(case.events) - {accepting})]


def _answer_the_review(tx: Tx, case: Case, row: Message, flagged: str | None) -> bool:
    """Take the case off the review list if it is there for this message alone; where another held
    message waits, the review reason becomes that message's. True when the list was answered."""
    if flagged is None or case.review_reason != flagged:
        return False  # on the list for something else (or not at all): a person clears that
    for waiting in reversed(_still_held(tx, case, row.id)):
        reason = _flag_reason(tx, case, waiting.id, waiting.message_id)
        if reason:
            case.review_reason = reason
            return False
    case.review_reason = None
    if case.status == NEEDS_REVIEW:
        case.status = RESOLVED if case.resolved_at else OPEN
    return True


def accept(store: Store, processor, ledger_id: int, at: datetime, *, actor: str, reason: str,
           ref: str | None = None) -> Accepted:
    """Record what a message filed from someone not on its case says, vouched for by ``actor``.

    ``processor`` is the watcher's ``IntakeProcessor`` (its reader and recorder, under the
    settings' partnership); ``at`` (UTC) is when the person accepts; ``ref``, when given, is the
    case the person saw it on, and the message must be filed there. The message is read again as
    it was when received, so it is recorded as of its own date (``Reading.when``; the time it was
    received when it has no usable Date) and the stage clock counts from then. Its files are
    already on the case (kept when it was filed), so they are not filed again. Raises
    ``UsageError`` for a missing reason, a message on no case or not filed as from someone not on
    it (or not on ``ref``), one already accepted, a case merged away or of another partnership, a
    message with no archived copy, or one that reading again now refuses (the reason is given).
    """
    reason = required_reason(reason)
    with store.transaction() as tx:
        row, _, filed_as_of = _filed_from_someone_not_on_the_case(tx, ledger_id, processor, ref)
        raw = Path(row.archive_path).read_bytes()
    try:
        reading = processor.reader.read(raw, now=filed_as_of)  # dated as when it was first read
    except Refused as refused:
        raise UsageError(f"Message {ledger_id} cannot be accepted: read again, it is refused: {refused.reason}") from None
    with store.transaction() as tx:  # checked again, the row held: another person may be accepting it
        row, case, _ = _filed_from_someone_not_on_the_case(tx, ledger_id, processor, ref, lock=True)
        flagged = _flag_reason(tx, case, row.id, row.message_id)
        processor.recorder.record(tx, case, reading, row.id, row.sha256, row.archive_path, documents_filed=True)
        review_cleared = _answer_the_review(tx, case, row, flagged)
        row.reason = f"from someone not on the case; accepted by {actor}: {reason}"
        detail = {"by": actor, "reason": reason, "ledger_id": row.id, "message_id": row.message_id,
                  "sender": reading.message.sender.address if reading.message.sender else None,
                  "review_cleared": review_cleared}
        tx.add_event(case, MESSAGE_ACCEPTED, at, stage=case.stage, variant=case.stage_variant,
                     message_id=row.message_id, ledger_id=row.id, detail=detail)
        tx.audit(actor, MESSAGE_ACCEPTED, case.ref, detail, at=at)
        return Accepted(case.ref, case.status, case.stage)
