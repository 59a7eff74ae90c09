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
outcome and learning, the outcome letters "within a further 2 working days") is owed
when the case is resolved at that stage, and states the stage's resolution deadline.

A notice is written as the case is when it is planned (``now``), not as it was at the
stage entry: the clock, next action and history are ``now``'s. A stage-entry notice
the case has moved past (a later message records a later stage or the resolution) is
``Superseded``: recorded in the outbox as such and never sent. A stage entered and left
in the same message is not moved past: its notices go. The same rule is asked again of a
notice already in the outbox just before it is sent or retried (``queued_notice_superseded``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Sequence

from pydantic import BaseModel

from resdesk.cases.timeline import CASE_RESOLVED, STAGE_ENTERED
from resdesk.protocols import CaseClock, Notification, Protocol, Stage, StageTiming, WorkingCalendar, to_local
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

from .planned import (
    Document,
    Planned,
    Recipients,
    Skipped,
    Superseded,
    clock_at,
    conversation,
    current_timing,
    protocol_name,
    slug,
    stage_label,
)
from resdesk.errors import ProtocolError

_NOTICE_LAYOUT = {
    "stage-3-notification": "stage3-notification",
    "stage-4-referral": "stage4-account",
    "iro-notification": "iro-notice",
    "conference-request": "conference-request",
    "imminent-risk-referral": "imminent-risk",
    "outcome-letter": "outcome-letter",
    "outcome-notice": "outcome-letter",
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
        # Haringey §6: owed on entry to stage 2, when concerns remain after stage 1.
        "conference-request": f"Request for a child protection conference after stage {stage - 1}",
        "imminent-risk-referral": "Imminent risk: MARF and MASH referral the same working day",
        "outcome-letter": f"Outcome to be confirmed in writing: resolved at stage {stage}",
    }.get(notice, f"Notice on entry to stage {stage}")


def _applies(snapshot: CaseSnapshot, rule: Notification) -> str | None:
    """None when the rule applies; otherwise why not."""
    if not snapshot.holds(rule.condition):
        return f"condition not met: {rule.condition.value}"
    if rule.unless is not None and snapshot.holds(rule.unless):
        return f"not sent when {rule.unless.value}"
    return None


def moved_past(events: Iterable[EventSnapshot], entry: EventSnapshot, now: datetime) -> EventSnapshot | None:
    """The first later stage entry or resolution recorded after ``entry``'s moment (by ``now``), if any:
    the case has moved past the stage ``entry`` started. Events of the same moment (one message) are not later."""
    later = [e for e in events
             if e.kind in (STAGE_ENTERED, CASE_RESOLVED) and to_local(entry.at) < to_local(e.at) <= to_local(now)]
    return min(later, key=lambda e: to_local(e.at)) if later else None


def superseded_reason(stage: Stage, past: EventSnapshot) -> str:
    """Why a notice for ``stage`` is not sent: the later stage entry or resolution ``past`` recorded."""
    moved = f"stage {past.stage}" if past.kind == STAGE_ENTERED else "the resolution"
    return (f"superseded: the case moved past stage {stage.label} ({moved} recorded "
            f"{to_local(past.at):%a %d %b %Y %H:%M}) before this notice was sent")


def notice_key(ref: str, stage: Stage, rule: Notification) -> str:
    """The idempotency key of ``rule``'s notice on entry to (or resolution at) ``stage`` of case ``ref``;
    a copy to a party adds ``:party:<address>``."""
    return f"notice:{ref}:{stage_label(stage.number, stage.variant)}:{rule.notice.value}:{slug(rule.recipient)}"


def queued_notice_superseded(
    key: str, ref: str, protocol: Protocol, events: Sequence[EventSnapshot], now: datetime
) -> str | None:
    """Why a notice already in the outbox under ``key`` is no longer owed at ``now``, else None.

    The same rule as planning (``moved_past``): a notice for a stage the case entered is superseded
    once a later stage entry or the resolution is recorded after the stage's latest entry (a stage
    entered again is owed its notice again). ``on-resolution`` notices, keys no rule of the protocol
    gives and mail that is no stage notice are never superseded. ``events`` need hold only the case's
    stage entries and resolutions.
    """
    base = key.split(":party:", 1)[0]
    rules = [(stage, rule) for stage in protocol.stages for rule in stage.notify
             if notice_key(ref, stage, rule) == base]
    if not rules or any(rule.when == "on-resolution" for _, rule in rules):
        return None
    stage = rules[0][0]
    entries = [e for e in events if e.kind == STAGE_ENTERED and e.stage == stage.number
               and to_local(e.at) <= to_local(now)]
    if not entries:
        return None
    past = moved_past(events, max(entries, key=lambda e: to_local(e.at)), now)
    return superseded_reason(stage, past) if past is not None else None


def _timing_of(clock: CaseClock, number: int) -> StageTiming | None:
    """The stage's timing on the clock as it is now (its latest entry), else the running stage's."""
    found = [t for t in clock.recorded if t.stage == number]
    return found[-1] if found else current_timing(clock)


def notices(
    snapshot: CaseSnapshot, event: EventSnapshot, protocol: Protocol, calendar: WorkingCalendar, now: datetime,
    recipients: Recipients,
) -> list[Planned | Skipped | Superseded]:
    """The notices owed for one stage entry (or, for ``on-resolution`` rules, the resolution)."""
    on_resolution = event.kind == CASE_RESOLVED
    if event.stage is None:
        return []
    try:
        stage = protocol.variant_for(event.stage, snapshot.clock_inputs.conditions, event.variant)
    except ProtocolError:  # the definition lost the stage: nothing to notify by
        return []
    results: list[Planned | Skipped | Superseded] = []
    past = None if on_resolution else moved_past(snapshot.events, event, now)
    clock = clock_at(protocol, snapshot, now, calendar)
    timing = _timing_of(clock, stage.number)
    for rule in stage.notify:
        if (rule.when == "on-resolution") != on_resolution:
            continue
        key = notice_key(snapshot.ref, stage, rule)
        why_not = _applies(snapshot, rule)
        if why_not:
            results.append(Skipped(key, why_not))
            continue
        address, who = recipients.for_contact(rule.contact, rule.recipient)
        if address is None:
            results.append(Skipped(key, f"no usable address for {rule.recipient}", unsendable=True))
            continue
        targets = [(key, address, who)]
        if rule.parties:
            targets += [(f"{key}:party:{slug(a, 64)}", a, name) for a, name in recipients.parties(snapshot)]
        if past is not None:
            reason = superseded_reason(stage, past)
            results.extend(Superseded(k, snapshot.ref, t, notice_title(rule.notice.value, stage.number), reason)
                           for k, t, _ in targets)
            continue
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
    due, basis = (timing.due, timing.basis) if timing else (None, "no fixed timescale")
    # The notice's own deadline where the stage has one: after a resolution, the outcome's (the
    # letter "within a further 2 working days", Sandwell's month); else one named as the notice is
    # (Sandwell's imminent-risk referral the same working day).
    own = [d for d in (timing.deadlines if timing else ())
           if (d.counts_from == "resolution") == (rule.when == "on-resolution")
           and (rule.when == "on-resolution" or d.name == notice)]
    if own:
        due, basis = own[0].due, f"{own[0].basis}: {own[0].what}"
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
        due=due,
        basis=basis,
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
