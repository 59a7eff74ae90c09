"""The acknowledgement owed for each recorded message (pure).

``ack:<ledger id>``: to the message's sender, unless the message was automatic or
came from our own address. It says what was recorded, what is due next, and which
needed case facts are still unknown or only estimated, with the line to type in a
reply to supply each (``Date raised: 23/11/2026``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from resdesk.cases.facts import needed_facts
from resdesk.protocols import Protocol, WorkingCalendar, to_local
from resdesk.protocols.facts import definition
from resdesk.render.snapshot import CaseSnapshot, EventSnapshot, addr_spec, address_of
from resdesk.render.views import AcknowledgementView, Party, RecordedItem

from .message import clean_header_text
from .planned import Planned, Skipped, clock_at, current_timing, protocol_name

_CLASSIFIED = {
    "stage-summary": "Stage summary",
    "stage-3-notification": "Notification of escalation progressing to stage 3",
    "filled-template": "Filled template",
    "reply": "Reply on the case",
    "automatic": "Automatic message",
}
_EXAMPLE = {"moment": "DD/MM/YYYY", "flag": "yes or no", "text": "the agency's name", "names": "names, separated by commas"}


def what_was_recorded(d: dict[str, Any]) -> str:
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


def missing_facts(snapshot: CaseSnapshot, protocol: Protocol) -> list[RecordedItem]:
    """Each needed fact still unknown or estimated, with the typed line that supplies it."""
    items = []
    for name in needed_facts(snapshot.facts):
        fact = definition(name)
        held = snapshot.facts.get(name)
        what = protocol.case_start if name == "case_start" else fact.description
        if held is not None and held.moment is not None:
            what += f" (estimated as {to_local(held.moment):%d/%m/%Y} from the first message)"
        items.append(RecordedItem(label=what, value=f"{fact.labels[0]}: {_EXAMPLE[fact.kind]}"))
    return items


def acknowledgement(
    snapshot: CaseSnapshot, event: EventSnapshot, protocol: Protocol, calendar: WorkingCalendar, now: datetime,
    own_addresses: frozenset[str],
) -> Planned | Skipped:
    """The acknowledgement of one ``message-recorded`` event, or why none is owed."""
    d = event.detail
    key = f"ack:{event.ledger_id}" if event.ledger_id is not None else f"ack:event:{event.id}"
    if not d.get("acknowledge", False):
        return Skipped(key, "automatic mail gets no automatic reply")
    if addr_spec(d.get("sender")) in own_addresses:
        return Skipped(key, "mail from our own address is never acknowledged")
    recipient = address_of(d.get("sender"), d.get("sender_name"))
    if recipient is None:
        return Skipped(key, f"the sender {str(d.get('sender'))[:80]!r} is not one usable address")
    clock = clock_at(protocol, snapshot, event.at, calendar)
    timing = current_timing(clock)
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
        following = protocol.next_stage(stage.number, snapshot.clock_inputs.conditions)
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
        case_ref=snapshot.ref,
        protocol_name=protocol_name(protocol),
        sender_agency=protocol.name,
        recipient=Party(
            name=clean_header_text(str(d.get("sender_name") or d.get("sender") or ""), 120),
            email=addr_spec(d.get("sender")),
        ),
        issued_at=now,
        received_at=event.at,
        received_subject=str(d.get("subject") or ""),
        what_was_recorded=what_was_recorded(d),
        recorded=recorded,
        stage=stage_number,
        stage_name=stage_name,
        due=due,
        basis=basis,
        cumulative_due=cumulative,
        next_action=clock.next_action,
        if_unresolved=if_unresolved,
        due_note=due_note,
        missing_facts=[] if clock.resolved is not None else missing_facts(snapshot, protocol),
    )
    return Planned(
        key=key, kind="acknowledgement", document="acknowledgement", case_ref=snapshot.ref, recipient=recipient,
        view=view, in_reply_to=d.get("message_id") or event.message_id,
        references=tuple(str(r) for r in d.get("references") or []),
        description=f"acknowledgement of {view.what_was_recorded}",
    )
