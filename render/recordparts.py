"""Cutting a long auditor record into parts that each lay out in bounded memory (pure).

WeasyPrint holds every page of a document in memory until it writes the PDF, and its time
per page grows with a table's length: one record of a case with 1,000 events and 1,000
messages took minutes and hundreds of megabytes, past the render worker's limits. So the
record is laid out as parts of about ``PART_LINES`` lines each, in order: the first part
holds the heading, key facts, timeline chart and deadlines; then the events, stage
summaries, messages and documents follow, a section cut between two parts carrying on
under its heading marked "(continued)". A record that fits in one part is one part, laid
out exactly as before.

A part's size is counted in printed lines, estimated from each row's text (a row never
splits: one row longer than a part is a part by itself).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .views import CaseRecordView

__all__ = ["PART_LINES", "SECTIONS", "RecordPart", "plan_parts"]

# About eight pages of the record's tables: a part of this size lays out in well under the
# render worker's time limit and within a fraction of its memory limit.
PART_LINES = 400
SECTIONS = ("events", "summaries", "messages", "documents")
_HEAD_LINES = 60  # heading, key facts, child, the timeline chart
_SECTION_LINES = 4  # a section's heading and its table's header row
_CHARACTERS_PER_LINE = 90  # of a wide cell's text at the record's body size


@dataclass
class RecordPart:
    """One part of the record: whether it opens the record, and the rows of each section it
    holds (``rows[section]``), with ``continued[section]`` when the section began in an
    earlier part. ``footers`` is False when page numbers are added after the parts are joined."""

    first: bool
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    continued: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(SECTIONS, False))
    footers: bool = True


def _text_lines(text: str) -> int:
    return sum(1 + len(line) // _CHARACTERS_PER_LINE for line in text.split("\n")) if text else 0


def _lines(section: str, row: dict[str, Any]) -> int:
    """Estimated printed lines of one row of ``section``."""
    if section == "events":
        return 2 + len(row["description"]) // 50  # the description's column is narrow
    if section == "summaries":
        return 2 + _text_lines(row["summary"]) + len(row["actions"])
    if section == "messages":
        return 4 + _text_lines(row["text"])
    return 2


def plan_parts(view: CaseRecordView, part_lines: int = PART_LINES) -> list[RecordPart]:
    """The record's parts in order (see the module's notes); rows as the template reads them.

    ``part_lines`` is the size of a part in estimated lines (at least 1).
    """
    sections = {name: view.model_dump(mode="python", include={name})[name] for name in SECTIONS}
    parts = [RecordPart(first=True)]
    used = _HEAD_LINES + 2 * len(view.deadlines)
    for name in SECTIONS:
        rows: list[dict[str, Any]] = []
        parts[-1].rows[name] = rows
        used += _SECTION_LINES
        for row in sections[name]:
            lines = _lines(name, row)
            if used + lines > part_lines and used > _SECTION_LINES:
                if rows:
                    parts.append(RecordPart(first=False))
                    parts[-1].continued[name] = True
                else:  # a heading alone at a part's end moves to the next part
                    del parts[-1].rows[name]
                    parts.append(RecordPart(first=False))
                rows = []
                parts[-1].rows[name] = rows
                used = _SECTION_LINES
            rows.append(row)
            used += lines
    if len(parts) > 1:
        for part in parts:
            part.footers = False
    return parts
