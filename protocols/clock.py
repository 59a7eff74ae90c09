"""The stage clock: from a protocol, a case's events and ``now``, what is due and what next.

Pure: nothing here reads the clock, the network or the database. The deadline
rules are PRODUCT §4:

- within N working days of T: 23:59:59 local on the N-th working day after T's
  local date (that date is day 0, whatever the hour and whether or not it is a
  working day);
- within N hours: T + N hours of elapsed time;
- same day: 23:59:59 local on T's date;
- otherwise there is no due time ("no fixed timescale");
- a cumulative target counts N working days from the case's start the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Iterable, Mapping, Sequence

from resdesk.protocols.calendar import WorkingCalendar
from resdesk.protocols.schema import Notification, Protocol, Stage, Timescale
from resdesk.protocols.timeparse import end_of_local_day, to_local


class StageStatus(str, Enum):
    ON_TIME = "on-time"
    DUE_TODAY = "due-today"
    OVERDUE = "overdue"
    NO_FIXED_TIMESCALE = "no-fixed-timescale"
    MET = "met"  # the stage ended by its due time
    MISSED = "missed"  # the stage ended after its due time
    NOT_RECORDED = "not-recorded"  # a stage before the first the case file heard of: nothing is known of it


def due_after(timescale: Timescale, start: datetime, calendar: WorkingCalendar) -> datetime | None:
    """When a stage with this timescale, started at ``start``, is due; None if never."""
    start = to_local(start)
    if timescale.working_days is not None:
        return end_of_local_day(calendar.add_working_days(start.date(), timescale.working_days))
    if timescale.hours is not None:
        # Elapsed time: add in UTC, so a clock change in between is counted as it happened.
        return to_local(start.astimezone(timezone.utc) + timedelta(hours=timescale.hours))
    if timescale.same_day:
        return end_of_local_day(start.date())
    return None


def cumulative_due(
    stage: Stage, case_start: datetime | None, calendar: WorkingCalendar
) -> datetime | None:
    """The stage's cumulative target counted from the case's start, where the seed gives one."""
    if stage.cumulative_working_days is None or case_start is None:
        return None
    return end_of_local_day(
        calendar.add_working_days(to_local(case_start).date(), stage.cumulative_working_days)
    )


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


CaseEvent = StageEntered | CaseResolved


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
    def overdue(self) -> bool:
        current = self.current
        return current is not None and StageStatus.OVERDUE in (current.status, current.cumulative_status)


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
    """
    now = to_local(now)
    stage_starts = {number: to_local(at) for number, at in (stage_starts or {}).items()}
    ordered: Sequence[CaseEvent] = sorted(events, key=lambda e: to_local(e.at))
    entries: list[tuple[Stage, datetime, bool]] = []
    resolved: datetime | None = None
    for event in ordered:
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
                status=_status(due, ended, now),
                cumulative_status=_status(cumulative, ended, now) if cumulative else None,
                estimated=estimated,
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
        return f"None: resolved on {resolved:%d %B %Y}.", []
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
    sentence = f"{head}; if unresolved: {unresolved}."
    if notices:
        sentence += " On entry to stage {}: {}.".format(
            following.number, "; ".join(_describe_notice(n) for n in notices)
        )
    return sentence, notices
