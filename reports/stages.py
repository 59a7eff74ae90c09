"""Stages met, missed and still running in a period, against each protocol's own clock.

A stage that ended within the period is *met* when it ended by its due time and
*missed* otherwise; one still running at the period's end (or at ``now``, for a
period not yet over) is *running*, and *overdue* as well when its due time has
passed. Stages with no fixed timescale (Haringey's, for example) are counted
apart: they can be neither met nor missed. Due times are ``protocols.due_after``
with the protocol's working-day calendar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable

from resdesk.errors import ProtocolError
from resdesk.protocols import Protocol, Registry, Stage, WorkingCalendar, due_after, to_local

from .period import Period
from .queries import StageSpan

CalendarFor = Callable[[Protocol], WorkingCalendar]


@dataclass
class StageTally:
    """Stage counts for one period; ``by_stage`` keys are stage numbers."""

    met: int = 0
    missed: int = 0
    running: int = 0
    running_overdue: int = 0
    no_fixed_timescale: int = 0
    by_stage: dict[int, dict[str, int]] = field(default_factory=dict)
    missed_refs: dict[str, int] = field(default_factory=dict)

    @property
    def share_overdue(self) -> float | None:
        """Missed or overdue stages as a share of those with a due time (0..1); None when there are none."""
        timed = self.met + self.missed + self.running
        return None if timed == 0 else round((self.missed + self.running_overdue) / timed, 3)

    def _add(self, stage: int, outcome: str, ref: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        row = self.by_stage.setdefault(stage, {"met": 0, "missed": 0, "running": 0, "no_fixed_timescale": 0})
        row[outcome] += 1
        if outcome == "missed":
            self.missed_refs[ref] = self.missed_refs.get(ref, 0) + 1


def tally_stages(
    spans: Iterable[StageSpan],
    period: Period,
    registry: Registry,
    now: datetime,
    calendar_for: CalendarFor,
) -> StageTally:
    """Met, missed, running and overdue stages among ``spans`` (see the module's rules)."""
    tally = StageTally()
    as_of = min(period.end, now)
    calendars: dict[str, tuple[Protocol, WorkingCalendar] | None] = {}
    dues: dict[tuple, datetime | None] = {}
    stages: dict[tuple, Stage | None] = {}
    for span in spans:
        if span.protocol not in calendars:
            try:
                protocol = registry.get(span.protocol)
                calendars[span.protocol] = (protocol, calendar_for(protocol))
            except ProtocolError:
                calendars[span.protocol] = None
        known = calendars[span.protocol]
        if known is None:
            continue
        protocol, calendar = known
        if (span.protocol, span.stage, span.variant) not in stages:
            try:
                stages[span.protocol, span.stage, span.variant] = protocol.stage(span.stage, span.variant)
            except ProtocolError:
                stages[span.protocol, span.stage, span.variant] = None
        stage = stages[span.protocol, span.stage, span.variant]
        if stage is None:
            continue
        # Working-day deadlines depend only on the local start date: work each out once.
        key = (span.protocol, span.stage, span.variant,
               to_local(span.started).date() if stage.timescale.working_days is not None else span.started)
        if key not in dues:
            dues[key] = due_after(stage.timescale, span.started, calendar)
        due = dues[key]
        if due is None:
            tally._add(span.stage, "no_fixed_timescale", span.ref)
        elif span.ended is not None and span.ended < period.end:
            tally._add(span.stage, "met" if span.ended <= due else "missed", span.ref)
        else:
            tally._add(span.stage, "running", span.ref)
            if due < as_of:
                tally.running_overdue += 1
    return tally
