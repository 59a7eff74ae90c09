"""The stage clock: from a protocol, a case's events and ``now``, what is due and what next.

Pure: nothing here reads the clock, the network or the database. When each timescale falls
due is PRODUCT §4's deadline rules (``protocols.dues``); this module applies them to a case's
stages, its cumulative target and each stage's own deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Iterable, Mapping, Sequence

from resdesk.protocols.calendar import WorkingCalendar
from resdesk.protocols.dues import cumulative_due, due_after
from resdesk.protocols.schema import Deadline, Notification, Protocol, Stage
from resdesk.protocols.timeparse import to_local


class StageStatus(str, Enum):
    ON_TIME = "on-time"
    DUE_TODAY = "due-today"
    OVERDUE = "overdue"
    NO_FIXED_TIMESCALE = "no-fixed-timescale"
    MET = "met"  # the stage ended by its due time
    MET_ESTIMATED = "met (estimated)"  # ended by a due time counted from an estimated start: not known
    MISSED = "missed"  # the stage ended after its due time
    NOT_RECORDED = "not-recorded"  # a stage before the first the case file heard of: nothing is known of it


@dataclass(frozen=True)
class StageEntered:
    """The case moved into a stage at ``at`` (escalated, or opened at that stage)."""

    stage: int
    at: datetime
    variant: str | None = None


@dataclass(frozen=True)
class CaseResolved:
    """The disagreement was resolved at ``at``; the clock stops."""

    at: datetime


@dataclass(frozen=True)
class DeadlineMet:
    """A person recorded that the deadline named ``deadline`` (a ``Stage.deadlines`` name) was met
    at ``at``: the outcome letter sent, the MARF completed and the case referred to MASH. Read for
    the deadlines a person records done (``RECORDED_DONE``), which the case file cannot otherwise
    see done; ``at`` on a day before the deadline's own start (the stage's start, or the
    resolution) is not read."""

    deadline: str
    at: datetime


CaseEvent = StageEntered | CaseResolved | DeadlineMet

# The deadlines a person records done (``DeadlineMet``): what they ask for is done outside the
# case file (an outcome letter written after the resolution; a MARF and a referral to MASH, a
# meeting's date set, while the stage runs). One counted from the stage's due time asks for the
# next stage, which the case file sees entered.
RECORDED_DONE = ("stage-start", "resolution")


@dataclass(frozen=True)
class DeadlineTiming:
    """One of a stage's own deadlines (``Stage.deadlines``) on the clock.

    ``status``: ``on-time``/``due-today``/``overdue`` while it can still be met and nothing
    says it was; ``met``/``missed`` where the case file can see it (entering the next stage,
    the stage ending by the deadline, or, for one counted from the stage's start or the
    resolution, a person recording it done: ``done`` is when it was done, by or after ``due``);
    ``not-recorded`` once its time has passed and nothing the case file holds says whether it
    was done (an outcome letter written by an agency that nobody recorded).
    """

    name: str
    what: str
    counts_from: str
    due: datetime
    basis: str
    status: StageStatus
    source: str
    done: datetime | None = None


@dataclass(frozen=True)
class StageTiming:
    """One stage on the clock. ``started`` is None only for a ``not-recorded`` stage;
    ``estimated`` says the start was not stated (the time of the first mail heard of it)."""

    stage: int
    variant: str | None
    name: str
    started: datetime | None
    ended: datetime | None
    due: datetime | None
    basis: str
    cumulative_due: datetime | None
    status: StageStatus
    cumulative_status: StageStatus | None
    estimated: bool = False
    deadlines: tuple[DeadlineTiming, ...] = ()


@dataclass(frozen=True)
class CaseClock:
    protocol: str
    stages: list[StageTiming]
    resolved: datetime | None
    next_action: str
    notices_on_escalation: list[Notification] = field(default_factory=list)

    @property
    def current(self) -> StageTiming | None:
        return None if self.resolved or not self.recorded else self.recorded[-1]

    @property
    def recorded(self) -> list[StageTiming]:
        """The stages the case file knows of (every stage but the ``not-recorded`` ones)."""
        return [t for t in self.stages if t.status is not StageStatus.NOT_RECORDED]

    @property
    def resolved_stage(self) -> StageTiming | None:
        """The stage the case was resolved at; None while no resolution is recorded."""
        return self.recorded[-1] if self.resolved is not None and self.recorded else None

    @property
    def resolution_deadlines(self) -> list[DeadlineTiming]:
        """The resolved stage's deadlines counted from the resolution (an outcome letter); empty
        while the case is not resolved."""
        stage = self.resolved_stage
        return [d for d in stage.deadlines if d.counts_from == "resolution"] if stage else []

    @property
    def recordable(self) -> list[tuple[StageTiming, DeadlineTiming]]:
        """The deadlines a person may record done now, each with its stage: those counted from a
        recorded stage's start (``RECORDED_DONE``) and the resolved stage's counted from the
        resolution, that nothing yet shows done (none recorded, none ``met`` by the stage's end)."""
        found = [(t, d) for t in self.recorded for d in t.deadlines if d.counts_from == "stage-start"]
        stage = self.resolved_stage
        found += [(stage, d) for d in self.resolution_deadlines] if stage is not None else []
        return [(t, d) for t, d in found if d.done is None and d.status is not StageStatus.MET]

    @property
    def overdue(self) -> bool:
        current = self.current
        return current is not None and StageStatus.OVERDUE in (current.status, current.cumulative_status)


def _open_deadlines(timings: list[StageTiming]) -> str:
    """" Also: <what> by <due> (<basis>)." for the last stage's deadlines still to come or overdue."""
    if not timings:
        return ""
    open_ = [d for d in timings[-1].deadlines
             if d.status in (StageStatus.ON_TIME, StageStatus.DUE_TODAY, StageStatus.OVERDUE)]
    return "".join(f" Also: {d.what} by {d.due:%a %d %b %Y %H:%M} ({d.basis})"
                   + (", overdue." if d.status is StageStatus.OVERDUE else ".") for d in open_)


def _status(due: datetime | None, ended: datetime | None, now: datetime) -> StageStatus:
    if due is None:
        return StageStatus.NO_FIXED_TIMESCALE
    if ended is not None:
        return StageStatus.MET if ended <= due else StageStatus.MISSED
    if now > due:
        return StageStatus.OVERDUE
    if to_local(now).date() == due.date():
        return StageStatus.DUE_TODAY
    return StageStatus.ON_TIME


def _describe_notice(notification: Notification) -> str:
    who = notification.recipient
    words = notification.notice.value.replace("-", " ")
    condition = f" if {notification.condition.value.replace('-', ' ')}" if notification.condition else ""
    return f"{words} to {who}{condition}"


def evaluate(
    protocol: Protocol,
    events: Iterable[CaseEvent],
    now: datetime,
    calendar: WorkingCalendar,
    case_start: datetime | None = None,
    *,
    stage_starts: Mapping[int, datetime] | None = None,
    case_start_estimated: bool = False,
    conditions: Mapping[str, bool] | None = None,
) -> CaseClock:
    """Every stage's start, due time, cumulative due and status, and the next expected action.

    ``events`` may come in any order; they are taken in time order. ``case_start``
    (the case fact: what the definition's ``case_start`` names) defaults to the
    entry into the protocol's ``cumulative_from_stage``, or the first entry recorded.
    ``stage_starts`` (stage number -> when it started, the ``stage_N_start`` facts)
    replace the time the case file heard of an entry. The protocol's first counted
    stage, when it is the first the case heard of, starts at ``case_start`` (its
    own trigger). Stages from ``cumulative_from_stage`` up to the first one heard
    of are listed ``not-recorded``, never ``met``. ``conditions`` (the case's flag
    facts) choose the variant of a split stage (LSCP/LSAB step 4 by ``urgent``).
    A ``DeadlineMet`` (the latest for each name) makes a deadline a person records done
    (``RECORDED_DONE``: counted from its stage's start or the resolution) ``met``, or
    ``missed`` when done after its due time.
    """
    now = to_local(now)
    stage_starts = {number: to_local(at) for number, at in (stage_starts or {}).items()}
    ordered: Sequence[CaseEvent] = sorted(events, key=lambda e: to_local(e.at))
    entries: list[tuple[Stage, datetime, bool]] = []
    resolved: datetime | None = None
    done = {event.deadline: to_local(event.at) for event in ordered if isinstance(event, DeadlineMet)}
    for event in ordered:
        if isinstance(event, DeadlineMet):
            continue
        if resolved is not None:
            break  # nothing after resolution moves the clock
        if isinstance(event, StageEntered):
            stage = protocol.variant_for(event.stage, conditions, event.variant)
            first = not entries
            if stage.number in stage_starts:
                entries.append((stage, stage_starts[stage.number], False))
            elif first and case_start is not None and stage.number == protocol.cumulative_from_stage:
                entries.append((stage, min(to_local(case_start), to_local(event.at)), case_start_estimated))
            else:
                entries.append((stage, to_local(event.at), first))
        else:
            resolved = to_local(event.at)
    if case_start is None and entries:
        anchor = [at for stage, at, _ in entries if stage.number == protocol.cumulative_from_stage]
        case_start = anchor[0] if anchor else entries[0][1]

    timings: list[StageTiming] = _not_recorded(protocol, entries[0][0].number) if entries else []
    for index, (stage, started, estimated) in enumerate(entries):
        ended = entries[index + 1][1] if index + 1 < len(entries) else resolved
        due = due_after(stage.timescale, started, calendar)
        cumulative = cumulative_due(stage, case_start, calendar)
        status = _status(due, ended, now)
        if estimated and status is StageStatus.MET:
            # Counted from the first mail heard of it: the real start may be earlier, so "met" is not known.
            status = StageStatus.MET_ESTIMATED
        escalated = index + 1 < len(entries)
        timings.append(
            StageTiming(
                stage=stage.number,
                variant=stage.variant,
                name=stage.name,
                started=started,
                ended=ended,
                due=due,
                basis=stage.timescale.basis,
                cumulative_due=cumulative,
                status=status,
                cumulative_status=_status(cumulative, ended, now) if cumulative else None,
                estimated=estimated,
                deadlines=_deadlines(stage, started, due, ended, escalated, now, calendar, conditions, done),
            )
        )

    recorded = timings[-len(entries):] if entries else []
    next_action, notices = _next_action(protocol, [(s, at) for s, at, _ in entries], recorded, resolved, conditions)
    return CaseClock(
        protocol=protocol.id,
        stages=timings,
        resolved=resolved,
        next_action=next_action,
        notices_on_escalation=notices,
    )


def _deadlines(
    stage: Stage, started: datetime, due: datetime | None, ended: datetime | None, escalated: bool,
    now: datetime, calendar: WorkingCalendar, conditions: Mapping[str, bool] | None,
    done: Mapping[str, datetime] | None = None,
) -> tuple[DeadlineTiming, ...]:
    """The stage's own deadlines that apply to this case (condition true; a ``resolution`` one only
    when the case was resolved at this stage; a ``stage-due`` one only when the stage has a due time
    and was not resolved), each with its due time and status; ``done`` (deadline name -> when a
    person recorded it done) settles one a person records (``RECORDED_DONE``) done on or after
    the day it counts from (local; a date given without a time is its midnight). One met by the
    stage's end (``met_by_stage_end``) stays ``met`` when the stage ended in time, whatever was
    recorded."""
    conditions = conditions or {}
    resolved_here = ended is not None and not escalated
    found: list[DeadlineTiming] = []
    for deadline in stage.deadlines:
        if deadline.condition is not None and conditions.get(deadline.condition.value) is not True:
            continue
        anchor = {"stage-start": started, "stage-due": due, "resolution": ended if resolved_here else None}[deadline.counts_from]
        if anchor is None or (deadline.counts_from == "stage-due" and resolved_here):
            continue
        deadline_due = due_after(deadline.timescale, anchor, calendar)
        assert deadline_due is not None  # a Deadline always has a timescale with a time
        met_at = (done or {}).get(deadline.name) if deadline.counts_from in RECORDED_DONE else None
        if met_at is not None and met_at.date() < anchor.date():
            met_at = None  # done before the day it counts from: it belongs to another (a case re-opened)
        status = _deadline_status(deadline, deadline_due, ended, escalated, now)
        if met_at is not None and status is not StageStatus.MET:
            status = _status(deadline_due, met_at, now)
        found.append(DeadlineTiming(
            name=deadline.name, what=deadline.what, counts_from=deadline.counts_from, due=deadline_due,
            basis=deadline.timescale.basis, status=status, source=deadline.source, done=met_at,
        ))
    return tuple(found)


def _deadline_status(deadline: Deadline, due: datetime, ended: datetime | None, escalated: bool, now: datetime) -> StageStatus:
    if deadline.met_by_stage_end and ended is not None and ended <= due:
        return StageStatus.MET  # the stage was over (escalated or resolved) by then
    if deadline.counts_from == "stage-due" and escalated:
        return StageStatus.MISSED  # the next stage was entered after the deadline
    status = _status(due, None, now)
    if status is StageStatus.OVERDUE and (ended is not None or deadline.counts_from == "resolution"):
        return StageStatus.NOT_RECORDED  # past, and nothing in the case file says whether it was done
    return status


def _not_recorded(protocol: Protocol, first_heard: int) -> list[StageTiming]:
    """The stages from the protocol's counted start up to the first one the case heard of."""
    timings: list[StageTiming] = []
    for number in protocol.stage_numbers:
        if protocol.cumulative_from_stage <= number < first_heard:
            stage = protocol.stage(number)
            timings.append(
                StageTiming(
                    stage=number, variant=stage.variant, name=stage.name, started=None, ended=None, due=None,
                    basis=stage.timescale.basis, cumulative_due=None, status=StageStatus.NOT_RECORDED,
                    cumulative_status=None,
                )
            )
    return timings


def _next_action(
    protocol: Protocol,
    entries: list[tuple[Stage, datetime]],
    timings: list[StageTiming],
    resolved: datetime | None,
    conditions: Mapping[str, bool] | None = None,
) -> tuple[str, list[Notification]]:
    if resolved is not None:
        return f"None: resolved on {resolved:%d %B %Y}." + _open_deadlines(timings), []
    if not entries:
        return "None yet: no stage has been recorded.", []
    stage = entries[-1][0]
    timing = timings[-1]
    following = protocol.next_stage(stage.number, conditions)
    notices = [n for n in following.notify if n.when != "on-resolution"] if following else []
    if following is None:
        unresolved = stage.if_unresolved or "the protocol names no further stage"
    else:
        unresolved = stage.if_unresolved or f"escalate to stage {following.number}"
    if timing.status is StageStatus.OVERDUE:
        head = f"Stage {stage.label} is overdue since {timing.due:%a %d %b %Y %H:%M}"
    elif timing.status is StageStatus.DUE_TODAY:
        head = f"Stage {stage.label} is due today by {timing.due:%H:%M}"
    elif timing.status is StageStatus.ON_TIME:
        head = f"Stage {stage.label} is due by {timing.due:%a %d %b %Y %H:%M}"
    else:
        head = f"Stage {stage.label} has no fixed timescale under the protocol"
    sentence = f"{head}; if unresolved: {unresolved}." + _open_deadlines(timings)
    if notices:
        sentence += " On entry to stage {}: {}.".format(
            following.number, "; ".join(_describe_notice(n) for n in notices)
        )
    return sentence, notices
