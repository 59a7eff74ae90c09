"""Geometry of the auditor's timeline chart: stages as bars against their deadlines.

A pure function of the stages and the time the record was generated; the
template draws the returned shapes as inline SVG (escaped like any other text),
so the chart needs no script and no image file.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .formatting import local

__all__ = ["timeline_chart"]

WIDTH = 500
LABEL_WIDTH = 120
ROW_HEIGHT = 18
AXIS_HEIGHT = 22


def timeline_chart(stages: list[dict[str, Any]], generated_at: datetime) -> dict[str, Any]:
    """Bars (entered → left, or → now), deadline ticks, cumulative-target ticks (``cumulative_x``,
    when a row gives ``cumulative_due``) and date gridlines.

    Each bar carries ``late``: it ran past its stage's due time.
    """
    if not stages:
        return {"width": WIDTH, "height": AXIS_HEIGHT, "rows": [], "ticks": []}
    now = local(generated_at)
    instants = [now]
    for row in stages:
        instants.append(local(row["entered_at"]))
        if row.get("due"):
            instants.append(local(row["due"]))
        if row.get("left_at"):
            instants.append(local(row["left_at"]))
        if row.get("cumulative_due"):
            instants.append(local(row["cumulative_due"]))
    start = min(instants).replace(hour=0, minute=0, second=0, microsecond=0)
    end = max(instants)
    span = max((end - start).total_seconds(), 86400.0)
    plot = WIDTH - LABEL_WIDTH - 10

    def x(moment: datetime) -> float:
        return round(LABEL_WIDTH + plot * (local(moment) - start).total_seconds() / span, 2)

    rows = []
    for index, row in enumerate(stages):
        y = AXIS_HEIGHT + index * ROW_HEIGHT
        finish = local(row["left_at"]) if row.get("left_at") else now
        due = local(row["due"]) if row.get("due") else None
        bar_x = x(row["entered_at"])
        rows.append(
            {
                "y": y,
                "label": f"Stage {row['stage']}: {row['name']}",
                "bar_x": bar_x,
                "bar_width": max(round(x(finish) - bar_x, 2), 1.5),
                "due_x": x(due) if due else None,
                "cumulative_x": x(row["cumulative_due"]) if row.get("cumulative_due") else None,
                "late": bool(due and finish > due),
                "open": not row.get("left_at"),
            }
        )
    days = max(int(span // 86400), 1)
    step = max(1, -(-days // 8))
    ticks = []
    for offset in range(0, days + 1, step):
        moment = start + timedelta(days=offset)
        ticks.append({"x": x(moment), "label": f"{moment.day}/{moment.month}"})
    height = AXIS_HEIGHT + len(stages) * ROW_HEIGHT + 4
    return {"width": WIDTH, "height": height, "rows": rows, "ticks": ticks, "now_x": x(now)}
