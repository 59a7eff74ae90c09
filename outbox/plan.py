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
- ``overdue:<case>:<stage>:<due>``: once a stage's due time has passed, and
  ``overdue:<case>:<stage>:cumulative:<due>`` once its cumulative target has.

A rule to notify "before entry" (Sandwell: the Director for Quality and Review
before stage 3) is honoured at the earliest moment the case file knows of it: the
entry into that stage.

Reminders and overdue alerts are created only in working hours (09:00–17:00 local
on a working day of the protocol's nation); outside them they wait for the next
tick in hours. Acknowledgements and notices go at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable, Literal

from pydantic import BaseModel

from resdesk.cases.timeline import MESSAGE_RECORDED, STAGE_ENTERED, clock_events
from resdesk.protocols import CaseClock, Notification, Protocol, StageTiming, WorkingCalendar, evaluate, to_local
from resdesk.render.casefacts import (
    CaseFacts,
    EventFacts,
    PartyFacts,
    addr_spec,
    address_of,
    agencies,
    agreed_actions,
    child_details,
    facts_from_case,
    history,
    summary_text,
)
from .message import clean_header_text, shorten_subject
from resdesk.render.prefill import escalation_concern, resolution_notice
from resdesk.render.views import AcknowledgementView, NoticeView, Party, RecordedItem, ReminderView

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
# A message's Date comes from the sender's clock; one a little ahead is still acted on now,
# one far ahead (a simulated ``--now`` before it) waits until its time.
CLOCK_SKEW = timedelta(minutes=15)
RESOLVED = "resolved"

Document = Literal["acknowledgement", "notice", "resolution-notice", "escalation-concern", "reminder"]


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
    unsendable: bool = False  # owed, but no usable address: a person must be told (an alert)


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


def _timing_at(clock: CaseClock) -> StageTiming | None:
    return clock.stages[-1] if clock.stages else None


# -- acknowledgements -------------------------------------------------------------------------

_CLASSIFIED = {
    "stage-summary": "Stage summary",
    "stage-3-notification": "Notification of escalation progressing to stage 3",
    "filled-template": "Filled template",
    "reply": "Reply on the case",
    "automatic": "Automatic message",
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
    elif kind == "reply":
        text = "a reply on the case"
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
    if addr_spec(d.get("sender")) in own_addresses:
        return Skipped(key, "mail from our own address is never acknowledged")
    recipient = address_of(d.get("sender"), d.get("sender_name"))
    if recipient is None:
        return Skipped(key, f"the sender {str(d.get('sender'))[:80]!r} is not one usable address", unsendable=True)
    clock = _clock(protocol, facts, event.at, calendar)
    timing = _timing_at(clock)
    due_note = ""
    if timing is not None:
        stage = protocol.stage(timing.stage, timing.variant)
        stage_number, stage_name, due, basis, cumulative = (
            timing.stage, timing.name, timing.due, timing.basis, timing.cumulative_due
        )
    else:
        stage = protocol.stages[0]
        stage_number, stage_name, due, basis, cumulative = stage.number, stage.name, None, "no stage recorded yet", None
        due_note = "Not yet known: no stage of the protocol has been recorded on the case"
    if clock.resolved is not None:
        due, cumulative = None, None
        due_note = f"Nothing further is due: the case was resolved on {to_local(clock.resolved):%d %B %Y}"
        if_unresolved = "The case is recorded as resolved; nothing further is due under the protocol."
    else:
        following = protocol.next_stage(stage.number)
        if_unresolved = stage.if_unresolved or (
            f"escalate to stage {following.number} ({following.name})" if following else "the protocol names no further stage"
        )
        if_unresolved = if_unresolved[0].upper() + if_unresolved[1:] + ("" if if_unresolved.endswith(".") else ".")
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
            email=addr_spec(d.get("sender")),
        ),
        issued_at=now,
        received_at=event.at,
        received_subject=shorten_subject(str(d.get("subject") or "")),
        what_was_recorded=_what_was_recorded(d),
        recorded=recorded,
        stage=stage_number,
        stage_name=stage_name,
        due=due,
        basis=basis,
        cumulative_due=cumulative,
        next_action=clock.next_action,
        if_unresolved=if_unresolved,
        due_note=due_note,
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
        recipient = address_of(address, rule.recipient if rule.address else "Business Unit")
        if recipient is None:
            results.append(Skipped(key, f"no usable address for {rule.recipient}: {address!r}", unsendable=True))
            continue
        results.append(_notice(facts, entry, stage.number, stage.name, rule, protocol, clock, timing, now, key, recipient))
    return results


def _notice(
    facts: CaseFacts, entry: EventFacts, number: int, name: str, rule: Notification, protocol: Protocol,
    clock: CaseClock, timing: StageTiming | None, now: datetime, key: str, recipient: str,
) -> Planned:
    notice = rule.notice.value
    title = notice_title(notice, number)
    # A rule without an address of its own goes to the business unit, for the person it names.
    who = rule.recipient if rule.address else f"Business Unit, for the attention of: {rule.recipient}"
    party = Party(name=who, email=addr_spec(recipient))
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
        child=child_details(facts),
        agencies=agencies(facts),
        summary=summary_text(facts, now),
        history=history(facts, now),
        actions=agreed_actions(facts, now),
        protocol_reference=rule.source,
    )
    form: BaseModel | None = None
    document: Document = "notice"
    if notice == "resolution-notice":
        form, document = resolution_notice(facts, protocol, base, entry), "resolution-notice"
    elif notice == "escalation-template":
        form, document = escalation_concern(facts, protocol, base, entry), "escalation-concern"
    return Planned(
        key=key, kind="notice", document=document, case_ref=facts.ref, recipient=recipient, view=view, form=form,
        description=f"{title} (stage {number}) to {rule.recipient}",
    )


# -- reminders and overdue alerts -------------------------------------------------------------


def _reminders(
    facts: CaseFacts, protocol: Protocol, calendar: WorkingCalendar, now: datetime, business_unit: str
) -> list[Planned]:
    """The stage's reminder or overdue alert, and an alert once its cumulative target has passed."""
    if facts.status == RESOLVED or not in_working_hours(now, calendar):
        return []
    clock = _clock(protocol, facts, now, calendar)
    current = clock.current
    recipient = address_of(business_unit, "Business Unit")
    if current is None or recipient is None:
        return []
    stage = _stage_label(current.stage, current.variant)
    found: list[Planned] = []

    def owe(kind: str, key: str, due: datetime, basis: str, words: str) -> None:
        view = ReminderView(
            kind=kind, case_ref=facts.ref, protocol_name=_protocol_name(protocol), sender_agency=protocol.name,
            recipient=Party(name="Business Unit", email=addr_spec(recipient)), issued_at=now, as_of=now,
            stage=current.stage, stage_name=current.name, due=due, basis=basis, next_action=clock.next_action,
        )
        found.append(Planned(key=key, kind=kind, document="reminder", case_ref=facts.ref, recipient=recipient,
                             view=view, description=f"{words}: stage {current.stage} due {_due_key(due)}"))

    if current.due is not None:
        if now > current.due:
            owe("overdue", f"overdue:{facts.ref}:{stage}:{_due_key(current.due)}", current.due, current.basis,
                "overdue alert")
        elif to_local(now).date() >= _reminder_day(current.due, calendar):
            owe("reminder", f"reminder:{facts.ref}:{stage}:{_due_key(current.due)}", current.due, current.basis,
                "reminder")
    cumulative = current.cumulative_due
    if cumulative is not None and now > cumulative:
        days = protocol.stage(current.stage, current.variant).cumulative_working_days
        owe("overdue", f"overdue:{facts.ref}:{stage}:cumulative:{_due_key(cumulative)}", cumulative,
            f"the cumulative target of {days} working days from the start of the case", "cumulative target passed")
    return found


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
    own = frozenset(a for a in (addr_spec(x) for x in own_addresses) if a)
    planned: list[Planned] = []
    skipped: list[Skipped] = []
    items: list[Planned | Skipped] = []
    for event in facts.events:
        if event.at > now + CLOCK_SKEW:
            continue
        if event.kind == MESSAGE_RECORDED:
            items.append(_acknowledgement(facts, event, protocol, calendar, now, own))
        elif event.kind == STAGE_ENTERED and event.stage is not None:
            items.extend(_notices(facts, event, protocol, calendar, now, business_unit))
    items.extend(_reminders(facts, protocol, calendar, now, business_unit))
    for item in items:
        (planned if isinstance(item, Planned) else skipped).append(item)
    return CasePlan(tuple(planned), tuple(skipped))
