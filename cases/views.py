"""What the commands show: each case with its clock, and one case's full timeline.

The clock is the protocol's (``protocols.evaluate``) run over the case's stored
stage events; ``now`` is a parameter, so a listing can be asked "as of" a time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from resdesk.cases.archive import sha256_hex
from resdesk.cases.models import NEEDS_REVIEW, RESOLVED, AuditEntry, Case, Message, Outbound
from resdesk.cases.facts import clock_inputs, facts_of, needed_facts
from resdesk.cases.store import Store, Tx
from resdesk.cases.timeline import awaiting_acceptance, clock_events
from resdesk.cases.verify import entry_document
from resdesk.protocols import CaseClock, Protocol, Registry, WorkingCalendar, evaluate, to_local
from resdesk.errors import ProtocolError

CalendarFor = Callable[[Protocol], WorkingCalendar]


def _default_calendar(protocol: Protocol) -> WorkingCalendar:
    return WorkingCalendar(protocol.nation)


def _iso(value: datetime | None) -> str | None:
    return to_local(value).isoformat() if value else None


def clock_for(case: Case, registry: Registry, now: datetime, calendar_for: CalendarFor = _default_calendar) -> CaseClock:
    """The case's stage clock at ``now`` from its stored events.

    A case whose protocol is no longer defined, or whose events name a stage the
    definition lost, gets an empty clock that says so instead of failing the listing.
    """
    try:
        protocol = registry.get(case.protocol)
        inputs = clock_inputs(facts_of(case))
        return evaluate(
            protocol, clock_events(case.events), now, calendar_for(protocol), inputs.case_start,
            stage_starts=inputs.stage_starts, case_start_estimated=inputs.case_start_estimated,
            conditions=inputs.conditions,
        )
    except ProtocolError as exc:
        return CaseClock(protocol=case.protocol, stages=[], resolved=case.resolved_at,
                         next_action=f"Cannot evaluate the clock: {exc}")


def _summary(case: Case, messages: int, clock: CaseClock) -> dict[str, Any]:
    last = clock.recorded[-1] if clock.recorded else None
    return {
        "ref": case.ref,
        "protocol": case.protocol,
        "stage": case.stage,
        "variant": case.stage_variant,
        "status": case.status,
        "review_reason": case.review_reason,
        "stage_started": _iso(case.stage_started),
        "stage_due": _iso(last.due) if last else None,
        "basis": last.basis if last else None,
        "cumulative_due": _iso(last.cumulative_due) if last else None,
        "overdue": clock.overdue if case.status != RESOLVED else False,
        "resolved_at": _iso(case.resolved_at),
        "next_action": clock.next_action,
        "messages": messages,
        "opened": _iso(case.opened_at),
        "needs_facts": needed_facts(facts_of(case)),
    }


def _message_counts(tx: Tx, case_ids: list[int] | None = None) -> dict[int, int]:
    """Messages filed per case id: those of ``case_ids``, or of every case when None."""
    wanted = Message.case_id.is_not(None) if case_ids is None else Message.case_id.in_(case_ids)
    rows = tx.session.execute(select(Message.case_id, func.count(Message.id)).where(wanted).group_by(Message.case_id))
    return {case_id: count for case_id, count in rows}


PAGE = 500  # cases read (with their events and facts) per query while listing


def iter_case_summaries(
    store: Store, registry: Registry, now: datetime, calendar_for: CalendarFor = _default_calendar, *,
    after: str | None = None, open_only: bool = False, overdue_only: bool = False, limit: int | None = None,
    needs_review_only: bool = False,
) -> Iterator[dict[str, Any]]:
    """Cases oldest first (by when they were opened in the case file), as ``case_summaries`` words
    them, read ``PAGE`` at a time so memory stays bounded however large the case file.

    ``after`` is the reference of the last case a previous page showed (``UnknownCase`` if no
    such case); ``open_only`` leaves out resolved cases, ``overdue_only`` keeps those whose stage is
    overdue; ``needs_review_only`` keeps the business unit's review list (status ``needs-review``);
    ``limit`` stops after that many.
    """
    with store.transaction() as tx:
        last_id = tx.require_case(after).id if after else 0
        given = 0
        while limit is None or given < limit:
            query = (select(Case).where(Case.id > last_id).order_by(Case.id).limit(PAGE)
                     .options(selectinload(Case.events), selectinload(Case.facts)))
            if open_only:
                query = query.where(Case.status != RESOLVED)
            if needs_review_only:
                query = query.where(Case.status == NEEDS_REVIEW)
            cases = tx.session.execute(query).scalars().all()
            if not cases:
                return
            counts = _message_counts(tx, [case.id for case in cases])
            for case in cases:
                summary = _summary(case, counts.get(case.id, 0), clock_for(case, registry, now, calendar_for))
                if overdue_only and not summary["overdue"]:
                    continue
                yield summary
                given += 1
                if limit is not None and given >= limit:
                    return
            last_id = cases[-1].id
            tx.session.expunge_all()  # this page is written out: let it go


def case_summaries(
    store: Store, registry: Registry, now: datetime, calendar_for: CalendarFor = _default_calendar
) -> list[dict[str, Any]]:
    """Every case, oldest first, with stage, status, due time, overdue flag and message count."""
    return list(iter_case_summaries(store, registry, now, calendar_for))


def case_timeline(
    store: Store, ref: str, registry: Registry, now: datetime, calendar_for: CalendarFor = _default_calendar
) -> dict[str, Any]:
    """One case in full: parties, events, messages received (with their SHA-256) and sent, documents,
    the clock per stage, and the case's audit entries."""
    with store.transaction() as tx:
        case = tx.require_case(ref)
        clock = clock_for(case, registry, now, calendar_for)
        messages = tx.messages_for(case)
        outbound = tx.session.execute(
            select(Outbound).where(Outbound.case_id == case.id).order_by(Outbound.id)
        ).scalars().all()
        audit = tx.session.execute(
            select(AuditEntry).where(AuditEntry.case_ref == case.ref).order_by(AuditEntry.seq)
        ).scalars()
        document = _summary(case, len(messages), clock)
        held = awaiting_acceptance(case.events)
        document.update(
            {
                "child": {
                    "identifier": case.child_identifier,
                    "name": case.child_name,
                    "dob": case.child_dob.isoformat() if case.child_dob else None,
                },
                "facts": {name: fact.as_json() for name, fact in sorted(facts_of(case).items())},
                "parties": [
                    {"name": p.name, "email": p.email, "agency": p.agency, "role": p.role} for p in case.parties
                ],
                "events": [
                    {
                        "kind": e.kind,
                        "at": _iso(e.at),
                        "stage": e.stage,
                        "variant": e.variant,
                        "detail": e.detail,
                        "message_id": e.message_id,
                    }
                    for e in case.events
                ],
                "message_count": len(messages),
                "messages": [
                    {
                        "ledger_id": m.id,
                        "message_id": m.message_id,
                        "subject": m.subject,
                        "from": m.sender,
                        "received_at": _iso(m.received_at),
                        "state": m.state,
                        "reason": m.reason,
                        "sender_verification": m.sender_verification,
                        "sha256": m.sha256,
                        "archive_path": m.archive_path,
                        "awaiting_acceptance": m.id in held,
                    }
                    for m in messages
                ],
                "outbound": [
                    {
                        "kind": o.kind,
                        "message_id": o.message_id,
                        "recipients": o.recipients,
                        "subject": o.subject,
                        "state": o.state,
                        "attempts": o.attempts,
                        "created_at": _iso(o.created_at),
                        "sent_at": _iso(o.sent_at),
                        "reason": o.last_error,
                        "sha256": sha256_hex(o.raw) if o.raw is not None else None,
                    }
                    for o in outbound
                ],
                "documents": [
                    {
                        "id": d.id,
                        "kind": d.kind,
                        "filename": d.filename,
                        "media_type": d.media_type,
                        "sha256": d.sha256,
                        "size": d.size,
                        "path": d.path,
                        "created_at": _iso(d.created_at),
                    }
                    for d in case.documents
                ],
                "clock": [
                    {
                        "stage": t.stage,
                        "variant": t.variant,
                        "name": t.name,
                        "started": _iso(t.started),
                        "ended": _iso(t.ended),
                        "due": _iso(t.due),
                        "basis": t.basis,
                        "cumulative_due": _iso(t.cumulative_due),
                        "status": t.status.value,
                        "cumulative_status": t.cumulative_status.value if t.cumulative_status else None,
                        "estimated": t.estimated,
                        "deadlines": [
                            {"name": d.name, "what": d.what, "counts_from": d.counts_from, "due": _iso(d.due),
                             "basis": d.basis, "status": d.status.value, "source": d.source, "done": _iso(d.done)}
                            for d in t.deadlines
                        ],
                    }
                    for t in clock.stages
                ],
                # Each entry with every field its hash is computed from (UTC time, payload,
                # previous hash), so a record can be checked offline (``cases.verify``).
                "audit": [entry_document(a) for a in audit],
            }
        )
        return document
