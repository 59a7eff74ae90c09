"""The themes returns: Oldham's quarterly themes and Gloucestershire's strategic escalation log.

Oldham §1.6: the partnership is notified of all stage 3 escalations and of every
escalation progressing to stage 4, "so that the partnership can stay alert to
any emerging trends or themes", and "will then collate themes from this data on
a quarterly basis to be presented at Strategic Safeguarding Partnership".

Gloucestershire, Stage Four: "where a pattern or theme of issues present in
multiple escalations the GSCP Business Unit will consider whether the issue
should be included in the strategic escalation log". An area recurs when two or
more stage 4 escalations of the period share it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from .activity import area_name
from .model import Chart, Report, Table
from .period import Period
from .queries import area_counts_reaching

RECURRING = 2  # "multiple escalations" (Gloucestershire, Stage Four)


def oldham_themes(session: Session, period: Period, now: datetime) -> Report:
    """Oldham's themes return: areas of the escalations that reached stage 3 or 4 in the period."""
    third = area_counts_reaching(session, period, ("oldham",), 3)
    fourth = {area: (count, refs) for area, count, refs in area_counts_reaching(session, period, ("oldham",), 4)}
    rows = tuple(
        (area_name(area), count, fourth.get(area, (0, []))[0], ", ".join(refs)) for area, count, refs in third
    )
    total = sum(count for _, count, _ in third)
    return Report(
        kind="oldham-themes",
        title="Themes from escalations (Oldham Safeguarding Children Partnership)",
        source="Oldham 2025 §1.6: themes collated quarterly from stage 3 and stage 4 escalations",
        period=period,
        generated_at=now,
        figures=(
            ("Escalations at stage 3 or 4", total),
            ("Escalations progressing to stage 4", sum(count for count, _ in fourth.values())),
            ("Areas of disagreement", len([r for r in third if r[0] != "not-recorded"])),
        ),
        tables=(Table("Themes by area of disagreement",
                      ("Area of disagreement", "Escalations", "Of which stage 4", "Cases"), rows),),
        charts=(Chart("bar", "Escalations at stage 3 or 4 by area of disagreement",
                      tuple(r[0] for r in rows), {"stage 3 or 4": tuple(r[1] for r in rows),
                                                  "stage 4": tuple(r[2] for r in rows)}),),
        export=Table("Themes", ("area_of_disagreement", "count", "stage_4", "cases"),
                     tuple((area, count, fourth.get(area, (0, []))[0], " ".join(refs)) for area, count, refs in third)),
    )


def gloucestershire_strategic_log(session: Session, period: Period, now: datetime) -> Report:
    """Gloucestershire's strategic escalation log: areas shared by stage 4 escalations of the period."""
    found = area_counts_reaching(session, period, ("gloucestershire",), 4)
    rows = tuple(
        (area_name(area), count, "yes" if count >= RECURRING and area != "not-recorded" else "no", ", ".join(refs))
        for area, count, refs in found
    )
    return Report(
        kind="gloucestershire-strategic-log",
        title="Strategic escalation log (Gloucestershire Safeguarding Children Partnership)",
        source="GSCP Escalation Protocol 2025, Stage Four: themes present in multiple escalations",
        period=period,
        generated_at=now,
        figures=(
            ("Stage 4 escalations", sum(count for _, count, _ in found)),
            ("Recurring themes", sum(1 for r in rows if r[2] == "yes")),
        ),
        tables=(Table("Themes across stage 4 escalations",
                      ("Area of disagreement", "Stage 4 escalations", "Recurring", "Cases"), rows),),
        charts=(Chart("bar", "Stage 4 escalations by area of disagreement",
                      tuple(r[0] for r in rows), {"stage 4 escalations": tuple(r[1] for r in rows)}),),
        export=Table("Strategic escalation log", ("area_of_disagreement", "count", "recurring", "cases"),
                     tuple((area, count, "yes" if count >= RECURRING and area != "not-recorded" else "no",
                            " ".join(refs)) for area, count, refs in found)),
    )
