"""How recorded mail moves a case along its protocol's stages (pure).

A stage summary's outcome decides: *resolved* closes the case, *escalated*
starts the next stage at the message's time, *actions agreed* keeps the stage.
A notification that a stage is starting (Oldham's "Notification of Escalation
progressing to stage 3") starts that stage. An outcome that cannot be read
flags the case for a person to review; it is never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Iterable, Mapping

from resdesk.protocols import CaseEvent, CaseResolved, DeadlineMet, Protocol, StageEntered
from resdesk.errors import ProtocolError

RESOLVED_OUTCOME, ESCALATED, ACTIONS_AGREED = "resolved", "escalated", "actions-agreed"
OUTCOMES = (RESOLVED_OUTCOME, ESCALATED, ACTIONS_AGREED)

# Event kinds kept in the case file.
STAGE_ENTERED = "stage-entered"
CASE_RESOLVED = "resolved"
NEEDS_REVIEW = "needs-review"
STAGE_SUMMARY = "stage-summary"
MESSAGE_RECORDED = "message-recorded"
MESSAGE_NOT_ON_CASE = "message-not-on-case"  # filed on the case, changed nothing (intake.authority)
MESSAGE_ACCEPTED = "message-accepted"  # such a message, accepted by a person and recorded (intake.accepting)
FORM_READ = "form-read"
NOTICE_SENT = "notice-sent"
DUPLICATE = "duplicate"
REOPENED = "reopened"
DEADLINE_MET = "deadline-met"  # a person recorded a deadline kept outside the case file done (cases.deadlines)
DEADLINE_MET_WITHDRAWN = "deadline-met-withdrawn"  # a person withdrew such a record, made in error (cases.deadlines)

_OUTCOME_WORDS = {
    "resolved": RESOLVED_OUTCOME,
    "escalated": ESCALATED,
    "escalate": ESCALATED,
    "actions agreed": ACTIONS_AGREED,
    "actions-agreed": ACTIONS_AGREED,
    "actions_agreed": ACTIONS_AGREED,
    "action agreed": ACTIONS_AGREED,
}
# The value is taken greedily and its trailing " \t*_." stripped in Python: a lazy value followed by
# a trailing class (``[^\r\n]*?[ \t*_.]*$``) is quadratic on a long run of dots or spaces.
_OUTCOME_LINE = re.compile(r"^[ \t>*_]*outcome[ \t*_]*:[ \t*_]*(?P<value>[^\r\n]*)$", re.I | re.M)


def normalise_outcome(value: str | None) -> str | None:
    """``resolved``, ``escalated`` or ``actions-agreed`` for the ways people write them; else None."""
    if value is None:
        return None
    words = " ".join(str(value).strip().lower().replace("_", " ").replace("-", " ").split())
    return _OUTCOME_WORDS.get(words)


_LEADING_OUTCOME = re.compile(r"^(?P<word>resolved|escalated|actions?[ -]agreed)\b(?P<rest>.*)$", re.I | re.S)
# What may follow the outcome word on the line: an aside, never a second opinion.
_ASIDE = re.compile(r"^\s*(?:$|[-\u2013\u2014:;,.(]|(?:to|at|with|by|on|and|see|please)\b)", re.I)
_ANY_OUTCOME_WORD = re.compile(r"\b(?:resolved|unresolved|escalated|escalate|agreed|not)\b", re.I)


def _line_outcome(value: str) -> str | None:
    exact = normalise_outcome(value)
    if exact is not None:
        return exact
    match = _LEADING_OUTCOME.match(value.strip())
    if match is None:
        return None
    rest = match.group("rest")
    if not _ASIDE.match(rest) or _ANY_OUTCOME_WORD.search(rest):
        return None
    return normalise_outcome(match.group("word"))


def outcome_from_text(body: str) -> str | None:
    """The outcome an email body states on an explicit ``Outcome:`` line.

    The line's value must start with the outcome ("Escalated to stage 3" and
    "Resolved - no further action" count; "Not resolved", "Resolved and
    escalated" and "Resolved?" do not). None when there is no such line, when
    its value is not one of the three outcomes, or when two lines disagree
    (quoted earlier mail can carry another outcome; the case is then left for a
    person rather than guessed).
    """
    text = (body or "").replace("\r\n", "\n").replace("\r", "\n")  # mail bodies end lines with CRLF
    found = {_line_outcome(m.group("value").rstrip(" \t*_.")) for m in _OUTCOME_LINE.finditer(text)}
    if len(found) != 1:
        return None
    return found.pop()


@dataclass(frozen=True)
class CaseState:
    """Where a case stands: what the case row holds about its stage."""

    status: str = "open"
    stage: int | None = None
    variant: str | None = None
    stage_started: datetime | None = None
    resolved_at: datetime | None = None
    review_reason: str | None = None


@dataclass(frozen=True)
class NewEvent:
    kind: str
    at: datetime
    stage: int | None = None
    variant: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    """The case's state after a message, and the events that record why."""

    state: CaseState
    events: tuple[NewEvent, ...]

    @property
    def needs_review(self) -> bool:
        return any(event.kind == NEEDS_REVIEW for event in self.events)


def _flag(state: CaseState, events: list[NewEvent], at: datetime, reason: str) -> Transition:
    status = state.status if state.status == "resolved" else "needs-review"
    events.append(NewEvent(NEEDS_REVIEW, at, state.stage, state.variant, {"reason": reason}))
    return Transition(replace(state, status=status, review_reason=reason), tuple(events))


def _enter(state: CaseState, events: list[NewEvent], stage: int, variant: str | None, at: datetime, why: str) -> CaseState:
    events.append(NewEvent(STAGE_ENTERED, at, stage, variant, {"because": why}))
    return replace(state, stage=stage, variant=variant, stage_started=at)


def after_stage_summary(
    protocol: Protocol, state: CaseState, stage: int, outcome: str | None, at: datetime,
    conditions: Mapping[str, bool] | None = None,
) -> Transition:
    """The case after a written summary of ``stage`` with ``outcome`` arrived at ``at``;
    ``conditions`` (case facts) choose the variant of a split next stage."""
    events: list[NewEvent] = []
    outcome = normalise_outcome(outcome)
    try:
        summarised = protocol.stage(stage)
    except ProtocolError:
        return _flag(state, events, at, f"a stage {stage} summary arrived, but the {protocol.id} protocol has no stage {stage}")
    if state.status == "resolved":
        if outcome == RESOLVED_OUTCOME:
            return Transition(state, ())
        return _flag(state, events, at, f"a stage {stage} summary (outcome: {outcome or 'unreadable'}) arrived after the case was resolved")
    if state.stage is not None and state.stage > stage:
        if outcome in (ESCALATED, ACTIONS_AGREED):
            return Transition(state, ())  # a late summary of a stage already left behind
        return _flag(
            state, events, at,
            f"a stage {stage} summary (outcome: {outcome or 'unreadable'}) arrived while the case is at stage {state.stage}",
        )
    if state.stage is None or state.stage < stage:
        state = _enter(state, events, summarised.number, summarised.variant, at, f"stage {stage} summary received")
    if outcome is None:
        return _flag(
            state, events, at,
            f"the stage {stage} summary states no outcome that can be read (expected resolved, escalated "
            "or actions agreed, in the form's outcome field or an 'Outcome:' line)",
        )
    if outcome == RESOLVED_OUTCOME:
        events.append(NewEvent(CASE_RESOLVED, at, state.stage, state.variant, {"because": f"stage {stage} summary: resolved"}))
        return Transition(replace(state, status="resolved", resolved_at=at), tuple(events))
    if outcome == ESCALATED:
        following = protocol.next_stage(summarised.number, conditions)
        if following is None:
            return _flag(state, events, at, f"stage {stage} was escalated, but the {protocol.id} protocol names no further stage")
        state = _enter(state, events, following.number, following.variant, at, f"stage {stage} summary: escalated")
    return Transition(state, tuple(events))


def after_stage_notification(protocol: Protocol, state: CaseState, stage: int, at: datetime) -> Transition:
    """The case after a notification that it is progressing to ``stage`` (Oldham stage 3)."""
    events: list[NewEvent] = []
    try:
        entered = protocol.stage(stage)
    except ProtocolError:
        return _flag(state, events, at, f"a notification of progress to stage {stage}, but the {protocol.id} protocol has no stage {stage}")
    if state.status == "resolved":
        return _flag(state, events, at, f"a notification of progress to stage {stage} arrived after the case was resolved")
    if state.stage is not None and state.stage >= stage:
        return Transition(state, ())  # already there: the notification confirms it
    state = _enter(state, events, entered.number, entered.variant, at, f"notification of escalation progressing to stage {stage}")
    return Transition(state, tuple(events))


def awaiting_acceptance(events: Iterable[Any]) -> set[int]:
    """Ledger ids of the messages filed on a case from someone not on it (``message-not-on-case``,
    ``intake.authority``) that no one has accepted yet (``message-accepted``, ``intake.accepting``),
    from the case's stored events."""
    events = list(events)
    held = {e.ledger_id for e in events if e.kind == MESSAGE_NOT_ON_CASE and e.ledger_id is not None}
    return held - {e.ledger_id for e in events if e.kind == MESSAGE_ACCEPTED}


def clock_events(events: Iterable[Any]) -> list[CaseEvent]:
    """The stage clock's events from stored events (anything with kind, stage, variant, at).

    A case re-opened by a person after resolution (``reopened``) loses the resolution
    it re-opened, so its clock runs again from the stage entered then. A ``deadline-met``
    event (``detail["deadline"]`` the deadline's name) is the clock's ``DeadlineMet``, unless a
    ``deadline-met-withdrawn`` event names its id (``detail["withdraws"]``).
    """
    events = list(events)
    result: list[CaseEvent] = []
    withdrawn = withdrawn_records(events)
    for event in sorted(events, key=lambda e: e.at):
        if event.kind == STAGE_ENTERED and event.stage is not None:
            result.append(StageEntered(stage=event.stage, at=event.at, variant=event.variant))
        elif event.kind == CASE_RESOLVED:
            result.append(CaseResolved(at=event.at))
        elif event.kind == REOPENED:
            result = [e for e in result if not isinstance(e, CaseResolved)]
        elif (event.kind == DEADLINE_MET and (getattr(event, "detail", None) or {}).get("deadline")
              and getattr(event, "id", None) not in withdrawn):
            result.append(DeadlineMet(deadline=str(event.detail["deadline"]), at=event.at))
    return result


def withdrawn_records(events: Iterable[Any]) -> set[int]:
    """The ids of ``deadline-met`` events a ``deadline-met-withdrawn`` event withdrew (anything with
    kind and detail)."""
    return {int(withdraws) for event in events if event.kind == DEADLINE_MET_WITHDRAWN
            and (withdraws := (getattr(event, "detail", None) or {}).get("withdraws")) is not None}
