"""A person's corrections to the case file: each one an event on the case and an audit entry
naming who made it, when, and the reason they gave.

Every function works inside the caller's unit of work (``Tx``) and raises
``UsageError`` when the correction makes no sense (no reason, a stage the
protocol lacks, a message already on that case) and ``UnknownCase`` for a
reference the case file does not hold. ``at`` is the moment of the correction
(timezone-aware); stages are the protocol's own numbering.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update

from resdesk.cases.models import (
    NEEDS_REVIEW, OPEN, RESOLVED, Case, CaseFact, Document, Event, Message, Outbound, Party,
)
from resdesk.cases.store import Tx
from resdesk.cases.timeline import CASE_RESOLVED, REOPENED, STAGE_ENTERED
from resdesk.errors import ProtocolError, UsageError
from resdesk.protocols import Protocol
from resdesk.protocols.facts import FROM_PERSON

MERGED = "merged"
PARTY_ADDED = "party-added"
NOTE = "note"


def required_reason(reason: str | None) -> str:
    """``reason`` stripped; UsageError when a person gave none (every correction says why)."""
    text = (reason or "").strip()
    if not text:
        raise UsageError("A correction needs a reason; say why it is made.")
    return text


def _record(tx: Tx, case: Case, kind: str, at: datetime, actor: str, reason: str, **detail: Any) -> None:
    detail = {"by": actor, "reason": reason, **detail}
    tx.add_event(case, kind, at, stage=case.stage, variant=case.stage_variant, detail=detail)
    tx.audit(actor, kind, case.ref, detail, at=at)


def move_message(tx: Tx, ledger_id: int, to_ref: str, at: datetime, *, actor: str, reason: str) -> Message:
    """File a received message (ledger id) on another case, with the events it made there."""
    reason = required_reason(reason)
    message = tx.session.get(Message, ledger_id)
    if message is None:
        raise UsageError(f"There is no received message {ledger_id} in the case file.")
    target = tx.require_case(to_ref)
    source = tx.case_by_id(message.case_id) if message.case_id is not None else None
    if source is not None and source.id == target.id:
        raise UsageError(f"Message {ledger_id} is already on case {target.ref}.")
    message.case_id = target.id
    moved = tx.session.execute(
        update(Event).where(Event.ledger_id == ledger_id).values(case_id=target.id)
    ).rowcount
    tx.session.expire_all()
    detail = {"ledger_id": ledger_id, "subject": message.subject, "from_case": source.ref if source else None,
              "to_case": target.ref, "events_moved": moved}
    if source is not None:
        _record(tx, source, "message-moved-out", at, actor, reason, **detail)
    _record(tx, target, "message-moved-in", at, actor, reason, **detail)
    return message


def merge_cases(tx: Tx, duplicate_ref: str, into_ref: str, at: datetime, *, actor: str, reason: str) -> Case:
    """Fold the duplicate case into the other: its messages, events, parties, documents, outbound
    mail and case facts move across; the duplicate stays, marked merged, pointing at the survivor.

    - **Facts.** Where both hold a fact, the better-founded value stays: a person's over one read
      from mail, one read from mail over an estimate (as ``cases.facts.record_fact`` decides); on a
      tie, the survivor's. The merge's event names the duplicate's facts left behind.
    - **Stage.** Where the duplicate is further along (a higher stage), the survivor takes its
      stage, variant and start. A resolved survivor keeps its state.
    - **Review.** The stage clock reads the merged events, so the survivor goes on the review list,
      saying why, where they disagree with its state: a stage entry of the duplicate later than the
      survivor's own but lower, or a resolution of the duplicate on a survivor still open.

    ``UsageError`` for a case merged into itself, a duplicate already merged, or a survivor that
    was itself merged into another (merge into that one)."""
    reason = required_reason(reason)
    duplicate, survivor = tx.require_case(duplicate_ref), tx.require_case(into_ref)
    if duplicate.id == survivor.id:
        raise UsageError("A case cannot be merged into itself.")
    if duplicate.status == MERGED:
        raise UsageError(f"Case {duplicate.ref} was already merged.")
    if survivor.status == MERGED:
        raise UsageError(f"Case {survivor.ref} was itself merged into another; merge into that one.")
    known = {p.email.lower() for p in survivor.parties if p.email}
    for party in list(duplicate.parties):
        if party.email and party.email.lower() in known:
            continue
        tx.add_party(survivor, name=party.name, email=party.email, agency=party.agency, role=party.role)
    left_behind = _settle_facts(tx, duplicate, survivor)
    counts = {}
    for model in (Message, Event, Document, Outbound, CaseFact):
        moving = update(model).where(model.case_id == duplicate.id)
        if model is CaseFact and left_behind:
            moving = moving.where(CaseFact.name.not_in(left_behind))
        counts[model.__tablename__] = tx.session.execute(moving.values(case_id=survivor.id)).rowcount
    tx.session.expire_all()
    for name in ("child_identifier", "child_name", "child_dob"):
        if getattr(survivor, name) is None and getattr(duplicate, name) is not None:
            setattr(survivor, name, getattr(duplicate, name))
    stage = _stage_after_merge(survivor, duplicate)
    duplicate.status = MERGED
    duplicate.review_reason = f"merged into {survivor.ref}"
    detail = {"merged": duplicate.ref, "into": survivor.ref, "moved": counts}
    if left_behind:
        detail["facts_left_behind"] = left_behind
    if stage:
        detail["stage"] = stage
    _record(tx, duplicate, "case-merged-away", at, actor, reason, **detail)
    _record(tx, survivor, "case-merged-in", at, actor, reason, **detail)
    check = _merged_clock_disagrees(tx, survivor, duplicate)
    if check:
        tx.flag_for_review(survivor, check, at)
    return survivor


def _standing(fact: CaseFact) -> int:
    """How well founded a fact is: estimated 0, read from mail 1, set by a person 2."""
    return 0 if fact.estimated else 2 if fact.source == FROM_PERSON else 1


def _settle_facts(tx: Tx, duplicate: Case, survivor: Case) -> list[str]:
    """Drop the survivor's facts the duplicate holds better founded (so they can move across);
    returns the names of the duplicate's facts that stay behind."""
    mine = {fact.name: fact for fact in survivor.facts}
    left_behind = []
    for fact in duplicate.facts:
        held = mine.get(fact.name)
        if held is None:
            continue
        if _standing(fact) > _standing(held):
            tx.session.delete(held)
        else:
            left_behind.append(fact.name)
    tx.session.flush()
    return sorted(left_behind)


def _stage_after_merge(survivor: Case, duplicate: Case) -> dict[str, Any] | None:
    """Take the duplicate's stage when it is further along (a higher stage) and the survivor is
    not resolved; returns what changed (before and after), or None."""
    if survivor.status == RESOLVED or duplicate.stage is None:
        return None
    if survivor.stage is not None and duplicate.stage <= survivor.stage:
        return None
    before = {"stage": survivor.stage, "variant": survivor.stage_variant}
    survivor.stage, survivor.stage_variant, survivor.stage_started = (
        duplicate.stage, duplicate.stage_variant, duplicate.stage_started)
    after = {"stage": duplicate.stage, "variant": duplicate.stage_variant,
             "started": duplicate.stage_started.isoformat() if duplicate.stage_started else None}
    return {"before": before, "after": after}


def _merged_clock_disagrees(tx: Tx, survivor: Case, duplicate: Case) -> str | None:
    """Why a person should check the survivor's stage after the merge, or None (``merge_cases``)."""
    if survivor.status == RESOLVED:
        return None
    if duplicate.resolved_at is not None:
        return (f"merged from {duplicate.ref}, which was resolved on {duplicate.resolved_at:%d %b %Y}: its "
                "resolution is now on this case's clock; close this case, or re-open it at its stage")
    latest = tx.session.execute(
        select(Event.stage, Event.at).where(Event.case_id == survivor.id, Event.kind == STAGE_ENTERED,
                                            Event.stage.is_not(None))
        .order_by(Event.at.desc(), Event.id.desc()).limit(1)
    ).one_or_none()
    if latest is not None and survivor.stage is not None and latest.stage < survivor.stage:
        return (f"merged from {duplicate.ref}, whose stage {latest.stage} entry of {latest.at:%d %b %Y} is later "
                f"than this case's stage {survivor.stage}: its clock now reads stage {latest.stage}; set the stage")
    return None


def _stage(protocol: Protocol, stage: int, variant: str | None):
    try:
        return protocol.stage(stage, variant)
    except ProtocolError as exc:
        raise UsageError(str(exc)) from None


def set_stage(
    tx: Tx, protocol: Protocol, ref: str, stage: int, at: datetime, *, actor: str, reason: str,
    variant: str | None = None,
) -> Case:
    """Correct the case's stage: the stage is entered at ``at`` and its clock runs from then."""
    reason = required_reason(reason)
    case = tx.require_case(ref)
    entered = _stage(protocol, stage, variant)
    previous = case.stage
    tx.add_event(case, STAGE_ENTERED, at, stage=entered.number, variant=entered.variant,
                 detail={"because": f"set by {actor}: {reason}"})
    case.stage, case.stage_variant, case.stage_started = entered.number, entered.variant, at
    _record(tx, case, "stage-set", at, actor, reason, previous_stage=previous, stage=entered.number,
            variant=entered.variant)
    return case


def reopen_case(
    tx: Tx, protocol: Protocol, ref: str, at: datetime, *, actor: str, reason: str, stage: int | None = None,
) -> Case:
    """Re-open a resolved case (it escalated again): its stage (the last one, unless given) runs
    again from ``at``, and it is back in the open and overdue lists."""
    reason = required_reason(reason)
    case = tx.require_case(ref)
    if case.status != RESOLVED:
        raise UsageError(f"Case {case.ref} is {case.status}, not resolved; only a resolved case can be re-opened.")
    entered = _stage(protocol, stage if stage is not None else (case.stage or protocol.stages[0].number), None)
    _record(tx, case, REOPENED, at, actor, reason, stage=entered.number)
    tx.add_event(case, STAGE_ENTERED, at, stage=entered.number, variant=entered.variant,
                 detail={"because": f"re-opened by {actor}: {reason}"})
    case.status, case.resolved_at, case.review_reason = OPEN, None, None
    case.stage, case.stage_variant, case.stage_started = entered.number, entered.variant, at
    return case


def close_case(tx: Tx, ref: str, at: datetime, *, actor: str, reason: str) -> Case:
    """Close the case as resolved at ``at``."""
    reason = required_reason(reason)
    case = tx.require_case(ref)
    if case.status in (RESOLVED, MERGED):
        raise UsageError(f"Case {case.ref} is already {case.status}.")
    tx.add_event(case, CASE_RESOLVED, at, stage=case.stage, variant=case.stage_variant,
                 detail={"because": f"closed by {actor}: {reason}"})
    case.status, case.resolved_at, case.review_reason = RESOLVED, at, None
    _record(tx, case, "case-closed", at, actor, reason)
    return case


def clear_review(tx: Tx, ref: str, at: datetime, *, actor: str, reason: str) -> Case:
    """A person has looked: the case leaves "needs review" (open again, or resolved if it was)."""
    reason = required_reason(reason)
    case = tx.require_case(ref)
    if case.status != NEEDS_REVIEW and not case.review_reason:
        raise UsageError(f"Case {case.ref} does not need review.")
    previous = case.review_reason
    if case.status == NEEDS_REVIEW:
        case.status = RESOLVED if case.resolved_at else OPEN
    case.review_reason = None
    _record(tx, case, "review-cleared", at, actor, reason, review_reason=previous)
    return case


def add_note(tx: Tx, ref: str, text: str, at: datetime, *, actor: str) -> None:
    """A note on the case, in its timeline and its record."""
    text = required_reason(text)
    case = tx.require_case(ref)
    _record(tx, case, NOTE, at, actor, text, text=text)


PARTY_TEXT_CHARS = 200  # parties.name, .agency and .role


def _party_text(label: str, value: str | None) -> str | None:
    """A typed name, agency or role as kept: runs of spaces and line breaks made one space; None
    when blank. ``UsageError`` for a control or invisible formatting character (it would reach the
    letters the party is sent) or more than ``PARTY_TEXT_CHARS`` characters."""
    text = " ".join((value or "").split())
    if not text:
        return None
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in text):
        raise UsageError(f"The {label} holds a control or invisible formatting character; type it again.")
    if len(text) > PARTY_TEXT_CHARS:
        raise UsageError(f"The {label} is {len(text):,} characters; at most {PARTY_TEXT_CHARS} are kept.")
    return text


def add_party(
    tx: Tx, ref: str, email: str, at: datetime, *, actor: str, reason: str,
    name: str | None = None, agency: str | None = None, role: str | None = None,
) -> Party:
    """Add someone to the case by hand: from then on their mail about it is a party's.

    ``email`` is checked for syntax only (no network look-up) and kept as the library normalises
    it (domain in lower case); ``name``, ``agency`` and ``role`` are optional, blanks dropped,
    each at most ``PARTY_TEXT_CHARS`` characters with no control characters (``_party_text``).
    ``UsageError`` for an address that is not one, for someone already a party to the case (by
    address, letter case aside), or for a case merged into another (add them to that one);
    ``UnknownCase`` for a reference the case file does not hold."""
    reason = required_reason(reason)
    case = tx.require_case(ref)
    if case.status == MERGED:
        raise UsageError(f"Case {case.ref} was merged into another; add the party to that case.")
    text = (email or "").strip().removeprefix("mailto:")
    try:
        address = validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise UsageError(f"'{text}' is not an e-mail address ({exc}).") from None
    if any(p.email and p.email.strip().lower() == address.lower() for p in case.parties):
        raise UsageError(f"{address} is already a party to case {case.ref}.")
    typed = {"name": _party_text("name", name), "agency": _party_text("agency", agency),
             "role": _party_text("role", role)}
    details = {key: value for key, value in typed.items() if value}
    party = tx.add_party(case, email=address, **details)
    _record(tx, case, PARTY_ADDED, at, actor, reason, email=address, **details)
    return party
