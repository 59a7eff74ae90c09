"""What must be sent, from a case's recorded facts and ``now`` (pure).

``plan_case`` reads a case's events as the case file holds them and returns every
message the product owes for it, each under an idempotency key that names why it
exists, so planning again (every tick, after every drain) asks for the same
messages and the outbox keeps one of each:

- ``ack:<ledger id>``: the acknowledgement of a recorded message, to its sender,
  unless the message was automatic or came from our own address;
- ``notice:<case>:<stage>:<notice kind>:<recipient>``: each notice the protocol
  requires on entry to a stage (``notify`` rules), to the address the definition
  gives or else the partnership's business unit, when the rule's condition holds;
- ``reminder:<case>:<stage>:<due>``: on the working day a stage is due, before its
  due time, to the business unit;
- ``overdue:<case>:<stage>:<due>``: once a stage's due time has passed.

Reminders and overdue alerts are created only in working hours (09:00–17:00 local
on a working day of the protocol's nation); outside them they wait for the next
tick in hours. Acknowledgements and notices go at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable, Literal

from pydantic import BaseModel

from cases.timeline import (
    CASE_RESOLVED,
    FORM_READ,
    MESSAGE_RECORDED,
    NEEDS_REVIEW,
    STAGE_ENTERED,
    STAGE_SUMMARY,
    clock_events,
)
from protocols import CaseClock, Notification, Protocol, StageTiming, WorkingCalendar, evaluate, to_local
from protocols.schema import Condition

from .outbox import clean_header_text, parse_one_address
from .views import (
    AcknowledgementView,
    ActionRow,
    ChildDetails,
    EscalationConcernView,
    NoticeView,
    Party,
    RecordedItem,
    ReminderView,
    ResolutionNoticeView,
    TimelineRow,
)

__all__ = [
    "WORKING_HOURS",
    "EventFacts",
    "PartyFacts",
    "CaseFacts",
    "Planned",
    "Skipped",
    "CasePlan",
    "facts_from_case",
    "in_working_hours",
    "plan_case",
    "notice_title",
]

WORKING_HOURS = (time(9, 0), time(17, 0))
RESOLVED = "resolved"

Document = Literal["acknowledgement", "notice", "resolution-notice", "escalation-concern", "reminder"]


# -- the facts planning reads ---------------------------------------------------------------


@dataclass(frozen=True)
class EventFacts:
    id: int
    kind: str
    at: datetime
    stage: int | None = None
    variant: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    message_id: str | None = None
    ledger_id: int | None = None


@dataclass(frozen=True)
class PartyFacts:
    name: str | None = None
    email: str | None = None
    agency: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class CaseFacts:
    """A case as planning needs it; ``facts_from_case`` reads one from the case file."""

    ref: str
    protocol: str
    status: str
    events: tuple[EventFacts, ...]
    parties: tuple[PartyFacts, ...] = ()
    case_start: datetime | None = None
    child_name: str | None = None
    child_dob: date | None = None
    child_identifier: str | None = None
    child_protection_plan_or_looked_after: bool = False
    threshold_dispute: bool = False
    childrens_trust_involved: bool = False

    def holds(self, condition: Condition | None) -> bool:
        if condition is None:
            return True
        return {
            Condition.CHILD_PROTECTION_PLAN_OR_LOOKED_AFTER: self.child_protection_plan_or_looked_after,
            Condition.THRESHOLD_DISPUTE: self.threshold_dispute,
            Condition.CHILDRENS_TRUST_INVOLVED: self.childrens_trust_involved,
        }[condition]


def facts_from_case(case: Any) -> CaseFacts:
    """The planning facts of a case row (anything shaped like ``cases.Case``)."""
    return CaseFacts(
        ref=case.ref,
        protocol=case.protocol,
        status=case.status,
        events=tuple(
            EventFacts(
                id=e.id, kind=e.kind, at=e.at, stage=e.stage, variant=e.variant, detail=dict(e.detail or {}),
                message_id=e.message_id, ledger_id=e.ledger_id,
            )
            for e in case.events
        ),
        parties=tuple(PartyFacts(p.name, p.email, p.agency, p.role) for p in case.parties),
        case_start=case.case_start,
        child_name=case.child_name,
        child_dob=case.child_dob,
        child_identifier=case.child_identifier,
        child_protection_plan_or_looked_after=bool(case.child_protection_plan_or_looked_after),
        threshold_dispute=bool(case.threshold_dispute),
        childrens_trust_involved=bool(case.childrens_trust_involved),
    )


# -- what planning returns ------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """One message owed: its key, who gets it, and the views its documents are rendered from.

    ``view`` is the letter (its text is the mail body); ``form`` is the pre-filled
    template attached beside it (Resolution Notice, escalation template), if any.
    """

    key: str
    kind: Literal["acknowledgement", "notice", "reminder", "overdue"]
    document: Document
    case_ref: str
    recipient: str
    view: BaseModel
    form: BaseModel | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Skipped:
    key: str
    reason: str


@dataclass(frozen=True)
class CasePlan:
    planned: tuple[Planned, ...]
    skipped: tuple[Skipped, ...] = ()


# -- working hours ----------------------------------------------------------------------------


def in_working_hours(now: datetime, calendar: WorkingCalendar, hours: tuple[time, time] = WORKING_HOURS) -> bool:
    """True from 09:00 to 17:00 local time on a working day of the calendar's nation."""
    moment = to_local(now)
    start, end = hours
    return calendar.is_working_day(moment.date()) and start <= moment.timetz().replace(tzinfo=None) < end


def _reminder_day(due: datetime, calendar: WorkingCalendar) -> date:
    """The working day a reminder goes out: the due date, or the last working day before it."""
    day = to_local(due).date()
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


# -- planning ---------------------------------------------------------------------------------


def _slug(text: str, limit: int = 48) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit] or "recipient"


def _stage_label(stage: int, variant: str | None) -> str:
    return f"{stage}-{_slug(variant, 16)}" if variant else str(stage)


def _due_key(due: datetime) -> str:
    return to_local(due).isoformat(timespec="seconds")


def _clock(protocol: Protocol, facts: CaseFacts, until: datetime, calendar: WorkingCalendar) -> CaseClock:
    """The clock from the events recorded up to ``until``, as it stood then."""
    events = [e for e in facts.events if e.at <= until]
    return evaluate(protocol, clock_events(events), until, calendar, facts.case_start)


def _protocol_name(protocol: Protocol) -> str:
    return f"{protocol.name}: {protocol.title} ({protocol.version})"


def _address_of(value: str | None, name: str | None = None) -> str | None:
    """``value`` as one clean address (with ``name`` as display name), or None if it is not one."""
    if not value:
        return None
    try:
        address = parse_one_address(value)
    except Exception:  # RenderError: not exactly one usable address
        return None
    display = clean_header_text(name or address.display_name or "", 120)
    return f"{display} <{address.addr_spec}>" if display else address.addr_spec


def _addr_spec(value: str | None) -> str:
    if not value:
        return ""
    try:
        return parse_one_address(value).addr_spec.lower()
    except Exception:
        return ""


def describe_event(event: EventFacts) -> str:
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
    return event.kind.replace("-", " ").capitalize()


def _history(facts: CaseFacts, until: datetime) -> list[TimelineRow]:
    return [
        TimelineRow(at=e.at, stage=e.stage, description=describe_event(e))
        for e in facts.events
        if e.at <= until and e.kind != "notice-sent"
    ]


def _latest_form(facts: CaseFacts, kind: str, until: datetime | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for event in facts.events:
        if event.kind == FORM_READ and event.detail.get("kind") == kind and (until is None or event.at <= until):
            found = dict(event.detail.get("fields") or {})
    return found


def _child(facts: CaseFacts) -> ChildDetails:
    return ChildDetails(
        name=facts.child_name or "",
        dob=facts.child_dob,
        identifier=facts.child_identifier or "",
        plan="Child Protection Plan or Child Looked After" if facts.child_protection_plan_or_looked_after else "",
    )


def _agencies(facts: CaseFacts) -> list[Party]:
    return [
        Party(name=p.name or p.email or "", organisation=p.agency or "", role=p.role or "", email=p.email or "")
        for p in facts.parties
        if p.name or p.email
    ]


def _actions(facts: CaseFacts, until: datetime) -> list[ActionRow]:
    rows: list[dict[str, Any]] = []
    for kind in ("stage-summary", "resolution-notice"):
        fields = _latest_form(facts, kind, until)
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


def _summary_text(facts: CaseFacts, until: datetime) -> str:
    for kind, name in (
        ("escalation-concern", "disagreement_details"),
        ("resolution-notice", "discussion_summary"),
        ("stage-summary", "summary"),
    ):
        text = _latest_form(facts, kind, until).get(name)
        if text:
            return str(text)
    return ""


def _first_sender(facts: CaseFacts) -> tuple[str, str]:
    for event in facts.events:
        if event.kind == MESSAGE_RECORDED and event.detail.get("sender"):
            return str(event.detail.get("sender_name") or ""), str(event.detail["sender"])
    return "", ""


def _timing_at(clock: CaseClock) -> StageTiming | None:
    return clock.stages[-1] if clock.stages else None


# -- acknowledgements -------------------------------------------------------------------------

_CLASSIFIED = {
    "stage-summary": "Stage summary",
    "stage-3-notification": "Notification of escalation progressing to stage 3",
    "filled-template": "Filled template",
    "reply": "Reply on the case",
}


def _what_was_recorded(d: dict[str, Any]) -> str:
    kind = d.get("classification")
    forms = ", ".join(f"{f.get('kind')} ({f.get('filename') or 'email text'})" for f in d.get("forms") or [])
    if kind == "stage-summary":
        text = f"the stage {d.get('stage')} summary (outcome: {d.get('outcome') or 'not stated'})"
    elif kind == "stage-3-notification":
        text = f"the notification of escalation progressing to stage {d.get('stage') or 3}"
    elif kind == "filled-template":
        text = "a filled template"
    else:
        text = "a message on the case"
    return f"{text}, with {forms}" if forms else text


def _acknowledgement(
    facts: CaseFacts, event: EventFacts, protocol: Protocol, calendar: WorkingCalendar, now: datetime,
    own_addresses: frozenset[str],
) -> Planned | Skipped:
    d = event.detail
    key = f"ack:{event.ledger_id}" if event.ledger_id is not None else f"ack:event:{event.id}"
    if not d.get("acknowledge", False):
        return Skipped(key, "automatic mail gets no automatic reply")
    if _addr_spec(d.get("sender")) in own_addresses:
        return Skipped(key, "mail from our own address is never acknowledged")
    recipient = _address_of(d.get("sender"), d.get("sender_name"))
    if recipient is None:
        return Skipped(key, f"the sender {str(d.get('sender'))[:80]!r} is not one usable address")
    clock = _clock(protocol, facts, event.at, calendar)
    timing = _timing_at(clock)
    if timing is not None:
        stage = protocol.stage(timing.stage, timing.variant)
        stage_number, stage_name, due, basis, cumulative = (
            timing.stage, timing.name, timing.due, timing.basis, timing.cumulative_due
        )
    else:
        stage = protocol.stages[0]
        stage_number, stage_name, due, basis, cumulative = stage.number, stage.name, None, "no stage recorded yet", None
    if clock.resolved is not None:
        due, cumulative = None, None
        if_unresolved = "The case is recorded as resolved; nothing further is due under the protocol."
    else:
        following = protocol.next_stage(stage.number)
        if_unresolved = stage.if_unresolved or (
            f"escalate to stage {following.number} ({following.name})" if following else "the protocol names no further stage"
        )
        if_unresolved = if_unresolved[0].upper() + if_unresolved[1:]
    recorded = [RecordedItem(label="Recorded as", value=_CLASSIFIED.get(d.get("classification"), "Message"))]
    if d.get("stage") is not None:
        recorded.append(RecordedItem(label="Stage", value=str(d["stage"])))
    if d.get("outcome"):
        recorded.append(RecordedItem(label="Outcome", value=str(d["outcome"])))
    for form in d.get("forms") or []:
        recorded.append(RecordedItem(label="Form", value=f"{form.get('kind')} ({form.get('filename') or 'email text'})"))
    view = AcknowledgementView(
        case_ref=facts.ref,
        protocol_name=_protocol_name(protocol),
        sender_agency=protocol.name,
        recipient=Party(
            name=clean_header_text(str(d.get("sender_name") or d.get("sender") or ""), 120),
            email=_addr_spec(d.get("sender")),
        ),
        issued_at=now,
        received_at=event.at,
        received_subject=str(d.get("subject") or ""),
        what_was_recorded=_what_was_recorded(d),
        recorded=recorded,
        stage=stage_number,
        stage_name=stage_name,
        due=due,
        basis=basis,
        cumulative_due=cumulative,
        next_action=clock.next_action,
        if_unresolved=if_unresolved,
    )
    return Planned(
        key=key, kind="acknowledgement", document="acknowledgement", case_ref=facts.ref, recipient=recipient,
        view=view, in_reply_to=d.get("message_id") or event.message_id,
        references=tuple(str(r) for r in d.get("references") or []),
        description=f"acknowledgement of {view.what_was_recorded}",
    )


# -- stage-entry notices ----------------------------------------------------------------------

_NOTICE_LAYOUT = {
    "stage-3-notification": "stage3-notification",
    "stage-4-referral": "stage4-account",
    "iro-notification": "iro-notice",
}


def notice_title(notice: str, stage: int) -> str:
    """The subject and heading of a notice; Oldham's own email title for its stage 3 notification."""
    return {
        "stage-3-notification": f"Notification of Escalation progressing to stage {stage}",
        "resolution-notice": "Resolution Notice",
        "escalation-template": "Multi-Agency Escalation of Safeguarding Concern Resolution template",
        "iro-notification": "Notice to the Independent Reviewing Officer",
        "director-notification": f"Notification to the Director: escalation at stage {stage}",
        "mash-involvement": f"Service Manager MASH involvement requested at stage {stage}",
        "business-unit-record": f"Escalation at stage {stage}: for the Business Unit's record",
        "stage-4-referral": f"Stage {stage} escalation: full account of the dispute and resolution attempts",
        "chair-referral": f"Referral to the Chair at stage {stage}",
        "representative-notification": f"Notification of escalation at stage {stage}",
    }.get(notice, f"Notice on entry to stage {stage}")


def _clean_fields(fields: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    allowed = set(model.model_fields)
    return {k: v for k, v in fields.items() if k in allowed and v not in (None, "") and k != "actions"}


def _resolution_notice(facts: CaseFacts, protocol: Protocol, base: dict[str, Any], entry: EventFacts) -> ResolutionNoticeView:
    name, address = _first_sender(facts)
    party = next((p for p in facts.parties if p.email and p.email.lower() == address.lower()), None)
    previous = [e.stage for e in facts.events if e.kind == STAGE_ENTERED and e.at <= entry.at and e.stage != entry.stage]
    values: dict[str, Any] = {
        "notification_date": to_local(entry.at).date(),
        "child_name": facts.child_name or "",
        "child_dob": facts.child_dob,
        "child_identifier": facts.child_identifier or "",
        "raised_by_name": name or (party.name if party and party.name else ""),
        "raised_by_agency": (party.agency or "") if party else "",
        "raised_by_role": (party.role or "") if party else "",
        "raised_by_contact": address,
        "discussion_summary": "\n".join(r.description for r in _history(facts, entry.at)),
        "outcome_summary": (
            f"Unresolved at stage {previous[-1]}; escalated to stage {entry.stage}." if previous
            else f"Escalated to stage {entry.stage}."
        ),
    }
    fields = _latest_form(facts, "resolution-notice", entry.at)
    values.update({k: str(v) if k != "notification_date" and k != "child_dob" else v
                   for k, v in _clean_fields(fields, ResolutionNoticeView).items()})
    actions = [
        ActionRow(action=str(r.get("action") or ""), owner=str(r.get("owner") or ""),
                  timeline=str(r.get("timeline") or ""), completed=r.get("completed"))
        for r in fields.get("actions") or [] if r.get("action")
    ] or _actions(facts, entry.at)
    return ResolutionNoticeView(**base, **values, actions=actions)


def _escalation_concern(facts: CaseFacts, protocol: Protocol, base: dict[str, Any], entry: EventFacts) -> EscalationConcernView:
    name, address = _first_sender(facts)
    party = next((p for p in facts.parties if p.email and p.email.lower() == address.lower()), None)
    values: dict[str, Any] = {
        "child_name": facts.child_name or "",
        "child_dob": facts.child_dob,
        "raised_by_name": name,
        "raised_by_email": address,
        "raised_by_role_agency": " / ".join(x for x in ((party.role, party.agency) if party else ()) if x),
        "other_professionals": "; ".join(
            f"{p.name or p.email}" + (f" ({p.agency})" if p.agency else "")
            for p in facts.parties if (p.email or "").lower() != address.lower()
        ),
        "disagreement_details": "\n".join(r.description for r in _history(facts, entry.at)),
        "discussion_date": to_local(entry.at).date(),
    }
    fields = _latest_form(facts, "escalation-concern", entry.at)
    dates = {"child_dob", "discussion_date", "resolved_date", "completed_date"}
    values.update({k: v if k in dates else str(v) for k, v in _clean_fields(fields, EscalationConcernView).items()})
    actions = [
        {"action": str(r.get("action") or ""), "by_whom": str(r.get("by_whom") or ""),
         "date_completed": r.get("date_completed")}
        for r in fields.get("actions") or [] if r.get("action")
    ]
    return EscalationConcernView(**base, **values, actions=actions)


def _notices(
    facts: CaseFacts, entry: EventFacts, protocol: Protocol, calendar: WorkingCalendar, now: datetime,
    business_unit: str,
) -> list[Planned | Skipped]:
    try:
        stage = protocol.stage(entry.stage, entry.variant)
    except Exception:  # the definition lost the stage: nothing to notify by
        return []
    results: list[Planned | Skipped] = []
    clock = _clock(protocol, facts, entry.at, calendar)
    timing = _timing_at(clock)
    for rule in stage.notify:
        key = f"notice:{facts.ref}:{_stage_label(stage.number, stage.variant)}:{rule.notice.value}:{_slug(rule.recipient)}"
        if not facts.holds(rule.condition):
            results.append(Skipped(key, f"condition not met: {rule.condition.value}"))
            continue
        address = rule.address or business_unit
        recipient = _address_of(address, rule.recipient)
        if recipient is None:
            results.append(Skipped(key, f"no usable address for {rule.recipient}: {address!r}"))
            continue
        results.append(_notice(facts, entry, stage.number, stage.name, rule, protocol, clock, timing, now, key, recipient))
    return results


def _notice(
    facts: CaseFacts, entry: EventFacts, number: int, name: str, rule: Notification, protocol: Protocol,
    clock: CaseClock, timing: StageTiming | None, now: datetime, key: str, recipient: str,
) -> Planned:
    notice = rule.notice.value
    title = notice_title(notice, number)
    party = Party(name=rule.recipient, email=_addr_spec(recipient))
    base = {
        "case_ref": facts.ref, "protocol_name": _protocol_name(protocol), "sender_agency": protocol.name,
        "recipient": party, "issued_at": now,
    }
    view = NoticeView(
        **base,
        kind=_NOTICE_LAYOUT.get(notice, "stage-entry"),
        title=title,
        stage=number,
        stage_name=name,
        due=timing.due if timing else None,
        basis=timing.basis if timing else "no fixed timescale",
        next_action=clock.next_action,
        child=_child(facts),
        agencies=_agencies(facts),
        summary=_summary_text(facts, now),
        history=_history(facts, now),
        actions=_actions(facts, now),
        protocol_reference=rule.source,
    )
    form: BaseModel | None = None
    document: Document = "notice"
    if notice == "resolution-notice":
        form, document = _resolution_notice(facts, protocol, base, entry), "resolution-notice"
    elif notice == "escalation-template":
        form, document = _escalation_concern(facts, protocol, base, entry), "escalation-concern"
    return Planned(
        key=key, kind="notice", document=document, case_ref=facts.ref, recipient=recipient, view=view, form=form,
        description=f"{title} (stage {number}) to {rule.recipient}",
    )


# -- reminders and overdue alerts -------------------------------------------------------------


def _reminders(
    facts: CaseFacts, protocol: Protocol, calendar: WorkingCalendar, now: datetime, business_unit: str
) -> list[Planned]:
    if facts.status == RESOLVED or not in_working_hours(now, calendar):
        return []
    clock = _clock(protocol, facts, now, calendar)
    current = clock.current
    if current is None or current.due is None:
        return []
    recipient = _address_of(business_unit, "Business Unit")
    if recipient is None:
        return []
    if now > current.due:
        kind = "overdue"
    elif to_local(now).date() >= _reminder_day(current.due, calendar):
        kind = "reminder"
    else:
        return []
    view = ReminderView(
        kind=kind, case_ref=facts.ref, protocol_name=_protocol_name(protocol), sender_agency=protocol.name,
        recipient=Party(name="Business Unit", email=_addr_spec(recipient)), issued_at=now, as_of=now,
        stage=current.stage, stage_name=current.name, due=current.due, basis=current.basis,
        next_action=clock.next_action,
    )
    key = f"{kind}:{facts.ref}:{_stage_label(current.stage, current.variant)}:{_due_key(current.due)}"
    words = "overdue alert" if kind == "overdue" else "reminder"
    return [
        Planned(key=key, kind=kind, document="reminder", case_ref=facts.ref, recipient=recipient, view=view,
                description=f"{words}: stage {current.stage} due {_due_key(current.due)}")
    ]


def plan_case(
    facts: CaseFacts,
    protocol: Protocol,
    calendar: WorkingCalendar,
    now: datetime,
    *,
    business_unit: str,
    own_addresses: Iterable[str] = (),
) -> CasePlan:
    """Every message the case is owed at ``now``: acknowledgements, stage-entry notices, reminders.

    Acknowledgements and notices are planned for every case (a resolved case's last
    summary is still acknowledged); reminders and alerts only for a case not resolved.
    """
    own = frozenset(a for a in (_addr_spec(x) for x in own_addresses) if a)
    planned: list[Planned] = []
    skipped: list[Skipped] = []
    items: list[Planned | Skipped] = []
    for event in facts.events:
        if event.kind == MESSAGE_RECORDED:
            items.append(_acknowledgement(facts, event, protocol, calendar, now, own))
        elif event.kind == STAGE_ENTERED and event.stage is not None:
            items.extend(_notices(facts, event, protocol, calendar, now, business_unit))
    items.extend(_reminders(facts, protocol, calendar, now, business_unit))
    for item in items:
        (planned if isinstance(item, Planned) else skipped).append(item)
    return CasePlan(tuple(planned), tuple(skipped))
