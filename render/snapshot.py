"""A read-only snapshot of a case for planning and documents: its events, parties, child
and case facts, and lines of its history (pure).

``snapshot_of`` copies what planning needs from a case row, so planning and the
documents it fills never touch the database. The case facts themselves (typed,
sourced, audited) live in ``resdesk.cases.facts``; the snapshot carries a copy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from resdesk.cases.timeline import (
    CASE_RESOLVED, DEADLINE_MET, DEADLINE_MET_WITHDRAWN, FORM_READ, MESSAGE_RECORDED, NEEDS_REVIEW, STAGE_ENTERED,
    STAGE_SUMMARY,
)
from resdesk.cases.facts import ClockInputs, FactValue, clock_inputs, facts_of
from resdesk.forms.values import identifier_label
from resdesk.protocols.facts import Condition

from .addresses import clean_header_text, parse_one_address
from .views import ActionRow, ChildDetails, Party, TimelineRow

__all__ = [
    "EventSnapshot",
    "PartySnapshot",
    "CaseSnapshot",
    "snapshot_of",
    "describe_event",
    "history",
    "latest_form",
    "child_details",
    "agencies",
    "agreed_actions",
    "summary_text",
    "first_sender",
    "address_of",
    "addr_spec",
]


@dataclass(frozen=True)
class EventSnapshot:
    id: int
    kind: str
    at: datetime
    stage: int | None = None
    variant: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    message_id: str | None = None
    ledger_id: int | None = None


@dataclass(frozen=True)
class PartySnapshot:
    name: str | None = None
    email: str | None = None
    agency: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class CaseSnapshot:
    """A case as planning needs it; ``snapshot_of`` reads one from the case file."""

    ref: str
    protocol: str
    status: str
    events: tuple[EventSnapshot, ...]
    parties: tuple[PartySnapshot, ...] = ()
    child_name: str | None = None
    child_dob: date | None = None
    child_identifier: str | None = None
    facts: dict[str, FactValue] = field(default_factory=dict)
    opened_at: datetime | None = None

    @property
    def clock_inputs(self) -> ClockInputs:
        return clock_inputs(self.facts)

    def holds(self, condition: Condition | None) -> bool:
        """True when ``condition`` is None or the case fact is set and true."""
        return condition is None or self.clock_inputs.conditions.get(condition.value) is True

    def known(self, condition: Condition) -> bool | None:
        """The condition's value, or None while the fact is unknown."""
        return self.clock_inputs.conditions.get(condition.value)


def snapshot_of(case: Any) -> CaseSnapshot:
    """The planning facts of a case row (anything shaped like ``cases.Case``)."""
    return CaseSnapshot(
        ref=case.ref,
        protocol=case.protocol,
        status=case.status,
        events=tuple(
            EventSnapshot(
                id=e.id, kind=e.kind, at=e.at, stage=e.stage, variant=e.variant, detail=dict(e.detail or {}),
                message_id=e.message_id, ledger_id=e.ledger_id,
            )
            for e in case.events
        ),
        parties=tuple(PartySnapshot(p.name, p.email, p.agency, p.role) for p in case.parties),
        child_name=case.child_name,
        child_dob=case.child_dob,
        child_identifier=case.child_identifier,
        facts=facts_of(case),
        opened_at=case.opened_at,
    )



def address_of(value: str | None, name: str | None = None) -> str | None:
    """``value`` as one clean address (with ``name`` as display name), or None if it is not one."""
    if not value:
        return None
    try:
        address = parse_one_address(value)
    except Exception:  # RenderError: not exactly one usable address
        return None
    # Specials would be read as comments or separators in a header: a display name keeps words only.
    display = " ".join(re.sub(r'[()<>\[\]:;@\\,"]', " ", clean_header_text(name or address.display_name or "", 120)).split())
    return f"{display} <{address.addr_spec}>" if display else address.addr_spec


def addr_spec(value: str | None) -> str:
    if not value:
        return ""
    try:
        return parse_one_address(value).addr_spec.lower()
    except Exception:
        return ""


def describe_event(event: EventSnapshot) -> str:
    """One line of a case's history for notices and the auditor's record."""
    d = event.detail
    if event.kind == STAGE_ENTERED:
        why = d.get("because")
        return f"Stage {event.stage} entered" + (f" ({why})" if why else "")
    if event.kind == CASE_RESOLVED:
        why = d.get("because")
        return "Resolved" + (f" ({why})" if why else "")
    if event.kind == STAGE_SUMMARY:
        return f"Stage {event.stage} summary received (outcome: {d.get('outcome') or 'not stated'})"
    if event.kind == MESSAGE_RECORDED:
        who = d.get("sender_name") or d.get("sender") or "unknown sender"
        return f"Message from {who}: {d.get('subject') or '(no subject)'}"
    if event.kind == FORM_READ:
        return f"Form read: {d.get('kind')} ({d.get('filename') or 'email text'})"
    if event.kind == NEEDS_REVIEW:
        return f"Needs review: {d.get('reason') or ''}"
    if event.kind == "notice-sent":
        return f"Sent {d.get('kind', 'message')} to {', '.join(d.get('recipients', []))}"
    if event.kind == DEADLINE_MET:
        return (f"Recorded done ({d.get('status') or 'met'}): {d.get('what') or d.get('deadline')}"
                + (f", by {d['by']}: {d.get('reason') or ''}" if d.get("by") else ""))
    if event.kind == DEADLINE_MET_WITHDRAWN:
        return (f"Record of done withdrawn: {d.get('what') or d.get('deadline')}"
                + (f", by {d['by']}: {d.get('reason') or ''}" if d.get("by") else ""))
    return event.kind.replace("-", " ").capitalize()


def history(facts: CaseSnapshot, until: datetime) -> list[TimelineRow]:
    return [
        TimelineRow(at=e.at, stage=e.stage, description=describe_event(e))
        for e in facts.events
        if e.at <= until and e.kind != "notice-sent"
    ]


def latest_form(facts: CaseSnapshot, kind: str, until: datetime | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for event in facts.events:
        if event.kind == FORM_READ and event.detail.get("kind") == kind and (until is None or event.at <= until):
            found = dict(event.detail.get("fields") or {})
    return found


def child_details(facts: CaseSnapshot) -> ChildDetails:
    return ChildDetails(
        name=facts.child_name or "",
        dob=facts.child_dob,
        identifier=identifier_label(facts.child_identifier),
        plan="Child Protection Plan or Child Looked After"
        if facts.holds(Condition.CHILD_PROTECTION_PLAN_OR_LOOKED_AFTER) else "",
    )


def agencies(facts: CaseSnapshot) -> list[Party]:
    return [
        Party(name=p.name or p.email or "", organisation=p.agency or "", role=p.role or "", email=p.email or "")
        for p in facts.parties
        if p.name or p.email
    ]


def agreed_actions(facts: CaseSnapshot, until: datetime) -> list[ActionRow]:
    rows: list[dict[str, Any]] = []
    for kind in ("stage-summary", "resolution-notice"):
        fields = latest_form(facts, kind, until)
        if fields.get("actions"):
            rows = fields["actions"]
    return [
        ActionRow(
            action=str(r.get("action") or ""), owner=str(r.get("owner") or ""),
            timeline=str(r.get("timeline") or ""), completed=r.get("completed"),
        )
        for r in rows
        if r.get("action")
    ]


def summary_text(facts: CaseSnapshot, until: datetime) -> str:
    for kind, name in (
        ("escalation-concern", "disagreement_details"),
        ("resolution-notice", "discussion_summary"),
        ("stage-summary", "summary"),
    ):
        text = latest_form(facts, kind, until).get(name)
        if text:
            return str(text)
    return ""


def first_sender(facts: CaseSnapshot) -> tuple[str, str]:
    for event in facts.events:
        if event.kind == MESSAGE_RECORDED and event.detail.get("sender"):
            return str(event.detail.get("sender_name") or ""), str(event.detail["sender"])
    return "", ""
