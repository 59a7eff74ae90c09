"""The ``activity`` return, for every protocol: what came in, what moved, what ran late.

Cases opened, resolved and open at the period's end; the highest stage each case
opened in the period reached; days from start to resolution; stages met, missed
and still running against the protocol's clock; the share overdue; and the
cases opened by agency pair and by area of disagreement (``protocols.areas``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from resdesk.protocols import AREAS, NOT_RECORDED
from resdesk.cases.models import RESOLVED, Case
from resdesk.protocols import Registry, to_local

from .model import Chart, Report, Table
from .period import Period
from .queries import AREA, RAISING, RESPONDING, cases_opened, counts_by, highest_stage_counts, stage_spans, totals, weekly_counts
from .stages import CalendarFor, tally_stages

EXPORT_COLUMNS = (
    "ref", "protocol", "opened", "highest_stage", "status", "resolved",
    "area_of_disagreement", "raising_agency", "responding_agency", "stages_missed",
)


def area_name(slug: str | None) -> str:
    """The wording a return prints for an area slug ("Not recorded" when there is none)."""
    if slug is None or slug == NOT_RECORDED:
        return "Not recorded"
    return AREAS.get(slug, slug)


def _week_labels(period: Period, weeks: int) -> tuple[str, ...]:
    return tuple(f"{(period.first + timedelta(days=7 * i)).strftime('%d %b')}" for i in range(weeks))


def _status_at_end(row: dict, period: Period) -> str:
    if row["resolved"] is not None and row["resolved"] < period.end:
        return RESOLVED
    return "open" if row["status"] == RESOLVED else row["status"]


def activity_report(
    session: Session, period: Period, registry: Registry, now: datetime, calendar_for: CalendarFor,
    protocols: tuple[str, ...] | None = None,
) -> Report:
    """The activity return for ``period`` as at ``now`` (figures, tables, charts, one export row per case)."""
    total = totals(session, period, protocols)
    tally = tally_stages(stage_spans(session, period, protocols), period, registry, now, calendar_for)
    highest = highest_stage_counts(session, period, protocols)
    by_area = counts_by(session, period, AREA, protocols=protocols)
    by_pair = counts_by(session, period, RAISING, RESPONDING, protocols=protocols)
    opened_weekly = weekly_counts(session, period, Case.opened_at, protocols)
    resolved_weekly = weekly_counts(session, period, Case.resolved_at, protocols)
    share = tally.share_overdue
    figures = (
        ("Cases opened", total.opened),
        ("Cases resolved", total.resolved),
        ("Cases open at the end of the period", total.open_at_end),
        ("Mean days from start to resolution", total.mean_days_to_resolution),
        ("Longest days from start to resolution", total.longest_days_to_resolution),
        ("Stages met", tally.met),
        ("Stages missed", tally.missed),
        ("Stages still running", tally.running),
        ("Stages still running and overdue", tally.running_overdue),
        ("Stages with no fixed timescale", tally.no_fixed_timescale),
        ("Share of stages overdue", None if share is None else f"{share:.0%}"),
    )
    stage_rows = tuple(
        ("No stage recorded" if stage is None else f"Stage {stage}", count)
        for stage, count in sorted(highest.items(), key=lambda item: (item[0] is not None, item[0] or 0))
    )
    outcome_rows = tuple(
        (f"Stage {stage}", row["met"], row["missed"], row["running"], row["no_fixed_timescale"])
        for stage, row in sorted(tally.by_stage.items())
    )
    rows = cases_opened(session, period, protocols)
    export_rows = tuple(
        (
            row["ref"], row["protocol"], to_local(row["opened"]).isoformat(), row["highest_stage"],
            _status_at_end(row, period),
            to_local(row["resolved"]).isoformat() if row["resolved"] and row["resolved"] < period.end else None,
            row["area_of_disagreement"] or NOT_RECORDED, row["raising_agency"], row["responding_agency"],
            tally.missed_refs.get(row["ref"], 0),
        )
        for row in rows
    )
    labels = _week_labels(period, len(opened_weekly))
    return Report(
        kind="activity",
        title="Escalation activity",
        source="Every protocol's stages and timescales (resdesk protocols show ID)",
        period=period,
        generated_at=now,
        figures=figures,
        tables=(
            Table("Highest stage reached by cases opened in the period", ("Highest stage", "Cases"), stage_rows),
            Table("Stages against their due times", ("Stage", "Met", "Missed", "Still running", "No fixed timescale"),
                  outcome_rows),
            Table("Cases opened by area of disagreement", ("Area of disagreement", "Cases"),
                  tuple((area_name(area), count) for area, count in by_area)),
            Table("Cases opened by agency pair", ("Raising agency", "Responding agency", "Cases"),
                  tuple((area_name(a) if a == NOT_RECORDED else a, area_name(b) if b == NOT_RECORDED else b, n)
                        for a, b, n in by_pair)),
        ),
        charts=(
            Chart("timeline", "Cases opened and resolved, week by week", labels,
                  {"opened": tuple(opened_weekly), "resolved": tuple(resolved_weekly)}),
            Chart("bar", "Cases opened by area of disagreement",
                  tuple(area_name(area) for area, _ in by_area), {"cases": tuple(n for _, n in by_area)}),
            Chart("bar", "Stages met, missed and still running",
                  tuple(r[0] for r in outcome_rows),
                  {"met": tuple(r[1] for r in outcome_rows), "missed": tuple(r[2] for r in outcome_rows),
                   "running": tuple(r[3] for r in outcome_rows)}, y_label="stages"),
        ),
        export=Table("Cases opened in the period", EXPORT_COLUMNS, export_rows),
    )
