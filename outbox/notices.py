"""The notices a protocol requires when a stage is entered, or when the case is resolved (pure).

``notice:<case>:<stage>:<notice kind>:<recipient>``: each ``notify`` rule of the
stage, when its condition holds (and its ``unless`` does not), to the named
contact the settings give, otherwise to the business unit for the attention of
the person the rule names; with ``parties``, a copy to every agency on the case
(``...:party:<address>``). Split stages (LSCP/LSAB step 4) are taken as the case
facts choose them, so correcting ``urgent`` changes which rules apply.

A rule to notify "before entry" (Sandwell: the Director for Quality and Review
before stage 3) is honoured at the earliest moment the case file knows of it:
the entry into that stage. An ``on-resolution`` rule (Oldham's outcome, Sandwell's
outcome and learning) is owed when the case is resolved at that stage.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from resdesk.cases.timeline import CASE_RESOLVED
from resdesk.protocols import CaseClock, Notification, Protocol, StageTiming, WorkingCalendar
from resdesk.render.prefill import escalation_concern, resolution_notice
from resdesk.render.snapshot import (
    CaseSnapshot,
    EventSnapshot,
    addr_spec,
    agencies,
    agreed_actions,
    child_details,
    history,
    summary_text,
)
from resdesk.render.views import NoticeView, Party

from .planned import Document, Planned, Recipients, Skipped, clock_at, conversation, current_timing, protocol_name, slug, stage_label
from resdesk.errors import ProtocolError

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
        "lessons-learned-referral": f"Referral for lessons learned from the escalation at stage {stage}",
        "outcome-notice": f"Outcome of the escalation, resolved at stage {stage}",
        "conference-request": f"Request for a child protection conference after stage {stage}",
        "imminent-risk-referral": "Imminent risk: MARF and MASH referral the same working day",
    }.get(notice, f"Notice on entry to stage {stage}")


def _applies(snapshot: CaseSnapshot, rule: Notification) -> str | None:
    """None when the rule applies; otherwise why not."""
    if not snapshot.holds(rule.condition):
        return f"condition not met: {rule.condition.value}"
    if rule.unless is not None and snapshot.holds(rule.unless):
        return f"not sent when {rule.unless.value}"
    return None


def notices(
    snapshot: CaseSnapshot, event: EventSnapshot, protocol: Protocol, calendar: WorkingCalendar, now: datetime,
    recipients: Recipients,
) -> list[Planned | Skipped]:
    """The notices owed for one stage entry (or, for ``on-resolution`` rules, the resolution)."""
    on_resolution = event.kind == CASE_RESOLVED
    if event.stage is None:
        return []
    try:
        stage = protocol.variant_for(event.stage, snapshot.clock_inputs.conditions, event.variant)
    except ProtocolError:  # the definition lost the stage: nothing to notify by
        return []
    results: list[Planned | Skipped] = []
    clock = clock_at(protocol, snapshot, event.at, calendar)
    timing = current_timing(clock)
    for rule in stage.notify:
        if (rule.when == "on-resolution") != on_resolution:
            continue
        key = f"notice:{snapshot.ref}:{stage_label(stage.number, stage.variant)}:{rule.notice.value}:{slug(rule.recipient)}"
        why_not = _applies(snapshot, rule)
        if why_not:
            results.append(Skipped(key, why_not))
            continue
        address, who = recipients.for_contact(rule.contact, rule.recipient)
        if address is None:
            results.append(Skipped(key, f"no usable address for {rule.recipient}"))
            continue
        targets = [(key, address, who)]
        if rule.parties:
            targets += [(f"{key}:party:{slug(a, 64)}", a, name) for a, name in recipients.parties(snapshot)]
        for target_key, target, name in targets:
            results.append(_notice(snapshot, event, stage.number, stage.name, rule, protocol, clock, timing, now,
                                   target_key, target, name))
    return results


def _notice(
    snapshot: CaseSnapshot, entry: EventSnapshot, number: int, name: str, rule: Notification, protocol: Protocol,
    clock: CaseClock, timing: StageTiming | None, now: datetime, key: str, recipient: str, who: str,
) -> Planned:
    notice = rule.notice.value
    title = notice_title(notice, number)
    party = Party(name=who, email=addr_spec(recipient))
    base = {
        "case_ref": snapshot.ref, "protocol_name": protocol_name(protocol), "sender_agency": protocol.name,
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
        child=child_details(snapshot),
        agencies=agencies(snapshot),
        summary=summary_text(snapshot, now),
        history=history(snapshot, now),
        actions=agreed_actions(snapshot, now),
        protocol_reference=rule.source,
    )
    form: BaseModel | None = None
    document: Document = "notice"
    if notice == "resolution-notice":
        form, document = resolution_notice(snapshot, protocol, base, entry), "resolution-notice"
    elif notice == "escalation-template":
        form, document = escalation_concern(snapshot, protocol, base, entry), "escalation-concern"
    in_reply_to, references = conversation(snapshot)
    return Planned(
        key=key, kind="notice", document=document, case_ref=snapshot.ref, recipient=recipient, view=view, form=form,
        in_reply_to=in_reply_to, references=references,
        description=f"{title} (stage {number}) to {rule.recipient}",
    )
