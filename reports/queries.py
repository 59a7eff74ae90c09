"""The returns' figures, counted by the database (SQL aggregates over the case file).

Every count here is one ``GROUP BY`` query; no case is loaded as an object.
A case is *opened* in a period when its start (``cases.opened_at``) falls in
it, *resolved* when its resolution does, and *open* at the period's end when it
started before the end and was not resolved by then. The area of disagreement and
the agencies are case facts (``cases.facts``), read by outer-joining the facts
table (``fact_texts``); where a case holds none, it is counted as ``not-recorded``.

The one thing the database cannot count alone is whether a stage met its due
time, because due times come from the protocol's working-day calendar
(``protocols.clock``): ``stage_spans`` reads one row per stage (with its end
found by a window function) and ``reports.stages`` tallies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import ColumnElement, Integer, and_, case as when, cast, func, literal, or_, select, type_coerce
from sqlalchemy.orm import Session

from resdesk.protocols import NOT_RECORDED
from resdesk.cases.facts import fact_texts
from resdesk.cases.models import Case, Event, UTCDateTime
from resdesk.cases.timeline import CASE_RESOLVED, STAGE_ENTERED

from .period import Period


# The case facts a return groups or lists cases by.
AREA, RAISING, RESPONDING = "area_of_disagreement", "raising_agency", "responding_agency"


def _recorded(column) -> ColumnElement:
    return func.coalesce(column, literal(NOT_RECORDED))


def _with_facts(session: Session, query, names: Sequence[str]):
    """``query`` outer-joined to the named facts' values; returns (query, {name: value column})."""
    dialect = session.get_bind().dialect.name
    columns = {}
    for name in names:
        texts = fact_texts(name, dialect)
        query = query.outerjoin(texts, texts.c.case_id == Case.id)
        columns[name] = texts.c.value
    return query, columns


def _in(column, period: Period) -> ColumnElement:
    return and_(column >= period.start, column < period.end)


def _protocols(protocols: Sequence[str] | None) -> ColumnElement:
    return Case.protocol.in_(list(protocols)) if protocols else literal(True)


def _days_between(session: Session, start, end) -> ColumnElement:
    """``end - start`` in days (fractional), in the dialect's own arithmetic."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 86400.0
    return func.julianday(end) - func.julianday(start)


@dataclass(frozen=True)
class Totals:
    """Cases opened and resolved in the period, and open at its end; days to resolution."""

    opened: int
    resolved: int
    open_at_end: int
    mean_days_to_resolution: float | None
    longest_days_to_resolution: float | None


def totals(session: Session, period: Period, protocols: Sequence[str] | None = None) -> Totals:
    """One query: the period's headline counts (days are calendar days, start to resolution)."""
    days = _days_between(session, Case.opened_at, Case.resolved_at)
    resolved_in = _in(Case.resolved_at, period)
    row = session.execute(
        select(
            func.count().filter(_in(Case.opened_at, period)),
            func.count().filter(resolved_in),
            func.count().filter(
                and_(Case.opened_at < period.end, or_(Case.resolved_at.is_(None), Case.resolved_at >= period.end))
            ),
            func.avg(when((resolved_in, days))),
            func.max(when((resolved_in, days))),
        ).where(_protocols(protocols))
    ).one()
    mean = None if row[3] is None else round(float(row[3]), 1)
    longest = None if row[4] is None else round(float(row[4]), 1)
    return Totals(int(row[0]), int(row[1]), int(row[2]), mean, longest)


def weekly_counts(session: Session, period: Period, column, protocols: Sequence[str] | None = None) -> list[int]:
    """How many cases have ``column`` (``Case.opened_at`` or ``Case.resolved_at``) in each week of the
    period, counted from its first day (the last week may be short)."""
    start = literal(period.start, UTCDateTime())
    days = _days_between(session, start, column)
    week = func.floor(days / 7) if session.get_bind().dialect.name == "postgresql" else cast(days / 7, Integer)
    weeks = -(-((period.last - period.first).days + 1) // 7)
    found = {
        int(index): count
        for index, count in session.execute(
            select(week, func.count(Case.id)).where(_in(column, period), _protocols(protocols)).group_by(week)
        )
    }
    return [int(found.get(index, 0)) for index in range(weeks)]


def _highest_stages(period: Period):
    return (
        select(Event.case_id, func.max(Event.stage).label("highest"))
        .where(Event.kind == STAGE_ENTERED, Event.at < period.end)
        .group_by(Event.case_id)
        .subquery()
    )


def highest_stage_counts(session: Session, period: Period, protocols: Sequence[str] | None = None) -> dict[int | None, int]:
    """Cases opened in the period by the highest stage each reached by its end (None: no stage yet)."""
    highest = _highest_stages(period)
    rows = session.execute(
        select(highest.c.highest, func.count(Case.id))
        .select_from(Case)
        .outerjoin(highest, highest.c.case_id == Case.id)
        .where(_in(Case.opened_at, period), _protocols(protocols))
        .group_by(highest.c.highest)
    )
    return {stage: count for stage, count in rows}


def counts_by(session: Session, period: Period, *facts: str, protocols: Sequence[str] | None = None) -> list[tuple]:
    """Cases opened in the period grouped by case facts (``area_of_disagreement``, ``raising_agency``,
    ``responding_agency``): ``(values..., count)`` rows, largest count first, then by the values."""
    query, columns = _with_facts(session, select(Case.id).select_from(Case), facts)
    keys = [_recorded(columns[name]) for name in facts]
    rows = session.execute(
        query.with_only_columns(*keys, func.count(Case.id))
        .where(_in(Case.opened_at, period), _protocols(protocols))
        .group_by(*keys)
    ).all()
    return sorted((tuple(row) for row in rows), key=lambda row: (-row[-1], tuple(str(v) for v in row[:-1])))


def area_counts_reaching(
    session: Session, period: Period, protocols: Sequence[str], min_stage: int
) -> list[tuple[str, int, list[str]]]:
    """Areas of disagreement of the cases that entered stage ``min_stage`` or later within the period:
    ``(area, cases, refs)`` rows, most cases first (Oldham §1.6; Gloucestershire stage four)."""
    entered = (
        select(Event.case_id)
        .where(Event.kind == STAGE_ENTERED, Event.stage >= min_stage, _in(Event.at, period))
        .distinct()
        .subquery()
    )
    reaching, columns = _with_facts(
        session, select(Case.id).select_from(Case).join(entered, entered.c.case_id == Case.id), (AREA,)
    )
    reaching = reaching.where(Case.protocol.in_(list(protocols)))
    area = _recorded(columns[AREA])
    grouped = session.execute(reaching.with_only_columns(area, func.count(Case.id)).group_by(area)).all()
    refs: dict[str, list[str]] = {}
    for name, ref in session.execute(reaching.with_only_columns(area, Case.ref).order_by(Case.ref)):
        refs.setdefault(name, []).append(ref)
    rows = [(name, int(count), refs.get(name, [])) for name, count in grouped]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


@dataclass(frozen=True)
class StageSpan:
    """One stage of one case: entered at ``started``, left at ``ended`` (None: still running)."""

    protocol: str
    ref: str
    stage: int
    variant: str | None
    started: datetime
    ended: datetime | None


def stage_spans(session: Session, period: Period, protocols: Sequence[str] | None = None) -> list[StageSpan]:
    """Every stage that was running at some moment of the period, one row each.

    A stage ends when the case enters its next stage or is resolved (the next
    boundary event, read with ``LEAD`` over the case's events in time order).
    """
    boundary = (
        select(
            Event.case_id,
            Event.kind,
            Event.stage,
            Event.variant,
            Event.at,
            type_coerce(func.lead(Event.at).over(partition_by=Event.case_id, order_by=(Event.at, Event.id)), UTCDateTime())
            .label("ended"),
        )
        .where(Event.kind.in_((STAGE_ENTERED, CASE_RESOLVED)))
        .subquery()
    )
    rows = session.execute(
        select(Case.protocol, Case.ref, boundary.c.stage, boundary.c.variant, boundary.c.at, boundary.c.ended)
        .join(boundary, boundary.c.case_id == Case.id)
        .where(
            boundary.c.kind == STAGE_ENTERED,
            boundary.c.stage.is_not(None),
            boundary.c.at < period.end,
            or_(boundary.c.ended.is_(None), boundary.c.ended >= period.start),
            _protocols(protocols),
        )
        .order_by(Case.ref, boundary.c.at)
    )
    return [StageSpan(*row) for row in rows]


_LISTED = (
    Case.id, Case.ref, Case.protocol, Case.opened_at.label("opened"), Case.status,
    Case.resolved_at.label("resolved"), Case.child_name, Case.child_dob,
)


def cases_opened(session: Session, period: Period, protocols: Sequence[str] | None = None,
                 raising_agency: str | None = None) -> list[dict[str, Any]]:
    """The cases opened in the period, oldest first, with their highest stage by the period's end and
    their area of disagreement and agencies (None where not recorded); ``raising_agency`` keeps one
    agency's cases, compared without regard to case."""
    highest = _highest_stages(period)
    query, facts = _with_facts(
        session, select(Case.id).select_from(Case).outerjoin(highest, highest.c.case_id == Case.id),
        (AREA, RAISING, RESPONDING),
    )
    query = (
        query.with_only_columns(*_LISTED, *(column.label(name) for name, column in facts.items()),
                                highest.c.highest.label("highest_stage"))
        .where(_in(Case.opened_at, period), _protocols(protocols))
        .order_by(Case.opened_at, Case.id)
    )
    if raising_agency:
        query = query.where(func.lower(facts[RAISING]) == raising_agency.strip().lower())
    return [dict(row._mapping) for row in session.execute(query)]
