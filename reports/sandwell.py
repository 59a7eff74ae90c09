"""Sandwell's Appendix 4 Agency Escalation Summary Log, filled from the case file.

"If agencies wish to maintain a summary of cases escalated for resolution, the
log below can be used" (Sandwell, Appendix 4). One row per Sandwell case opened
in the period, for one agency (the raising agency) or for all, under the
seed's own column headings in the seed's order. What the case file does not
hold is left blank, never invented.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from resdesk.cases.models import Event
from resdesk.cases.timeline import FORM_READ
from resdesk.forms import LEVEL_DISPLAY
from resdesk.protocols import Registry, to_local
from resdesk.errors import ProtocolError

from .activity import area_name
from .model import Chart, Report, Table
from .period import Period
from .queries import cases_opened

# Sandwell Appendix 4, "AGENCY ESCALATION SUMMARY LOG": the headings as printed, in order.
COLUMNS = (
    "Escalation Number",
    "Child Details: Name: DOB: Age:",
    "Concern",
    "Level of Need",
    "Summary of Professional Disagreement",
    "Action taken towards reaching a Resolution",
    "Outcome of Resolution",
)


def _age(dob: date | None, on: date) -> int | None:
    if dob is None:
        return None
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def _form_fields(session: Session, case_ids: list[int]) -> dict[int, dict[str, Any]]:
    """What the forms read on each case say, later forms filling what earlier ones left blank."""
    merged: dict[int, dict[str, Any]] = {}
    if not case_ids:
        return merged
    for case_id, detail in session.execute(
        select(Event.case_id, Event.detail).where(Event.kind == FORM_READ, Event.case_id.in_(case_ids))
        .order_by(Event.at, Event.id)
    ):
        fields = (detail or {}).get("fields") or {}
        target = merged.setdefault(case_id, {})
        for name, value in fields.items():
            if value not in (None, "", []) and name not in target:
                target[name] = value
    return merged


def _stage_name(registry: Registry, stage: int | None) -> str:
    if stage is None:
        return "no stage recorded"
    try:
        return f"stage {stage} ({registry.get('sandwell').stage(stage).name})"
    except ProtocolError:
        return f"stage {stage}"


def _row(case: dict, fields: dict[str, Any], registry: Registry, period: Period) -> tuple[str, ...]:
    opened = to_local(case["opened"]).date()
    dob = case["child_dob"]
    age = _age(dob, opened)
    child = "\n".join([
        f"Name: {case['child_name'] or ''}".rstrip(),
        f"DOB: {dob.strftime('%d/%m/%Y') if dob else ''}".rstrip(),
        f"Age: {'' if age is None else age}".rstrip(),
    ])
    level = fields.get("current_level_of_need") or fields.get("level_of_need")
    summary = fields.get("disagreement_details") or fields.get("discussion_summary") or fields.get("summary") or ""
    actions = [a.get("action") for a in fields.get("actions") or [] if isinstance(a, dict) and a.get("action")]
    reached = _stage_name(registry, case["highest_stage"])
    action_taken = "; ".join([f"Escalated to {reached}" if (case["highest_stage"] or 0) > 1 else
                              f"Discussed at {reached}", *actions])
    resolved = case["resolved"]
    if resolved is not None and resolved < period.end:
        outcome = f"Resolved on {to_local(resolved).strftime('%d/%m/%Y')} at {reached}"
    else:
        outcome = f"Not yet resolved: at {reached} at the end of the period"
    if fields.get("outcome_summary"):
        outcome += f". {fields['outcome_summary']}"
    return (
        case["ref"], child, area_name(case["area_of_disagreement"]),
        LEVEL_DISPLAY.get(level, level or ""), summary, action_taken, outcome,
    )


def sandwell_summary_log(
    session: Session, period: Period, registry: Registry, now: datetime, agency: str | None = None
) -> Report:
    """The Appendix 4 log for ``period``, for the raising ``agency`` or (None) for all agencies."""
    cases = cases_opened(session, period, ("sandwell",), raising_agency=agency)
    fields = _form_fields(session, [c["id"] for c in cases])
    rows = tuple(_row(case, fields.get(case["id"], {}), registry, period) for case in cases)
    resolved = sum(1 for r in rows if r[6].startswith("Resolved"))
    concerns: dict[str, int] = {}
    for row in rows:
        concerns[row[2]] = concerns.get(row[2], 0) + 1
    ordered = sorted(concerns.items(), key=lambda item: (-item[1], item[0]))
    return Report(
        kind="sandwell-summary-log",
        title="Agency Escalation Summary Log" + (f": {agency}" if agency else " (all agencies)"),
        source="Sandwell Escalation Policy, Appendix 4 Agency Escalation Summary Log",
        period=period,
        generated_at=now,
        figures=(("Agency / School", agency or "All agencies"), ("Escalations", len(rows)),
                 ("Resolved in the period", resolved)),
        tables=(Table("AGENCY ESCALATION SUMMARY LOG", COLUMNS, rows),),
        charts=(Chart("bar", "Escalations by concern", tuple(k for k, _ in ordered),
                      {"escalations": tuple(v for _, v in ordered)}),),
        export=Table("Agency Escalation Summary Log", COLUMNS, rows),
    )
