"""What a return holds, whatever it is written as: figures, tables, charts and its export rows.

One ``Report`` feeds every format (PDF, Word, CSV, XLSX, the workspace page),
so the numbers in each are the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .period import Period


@dataclass(frozen=True)
class Table:
    """A titled table: ``columns`` headings and ``rows`` of plain values (text, numbers, dates)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str | None = None


@dataclass(frozen=True)
class Chart:
    """A chart to draw: ``bar`` (categories against counts, one series per name in ``series``) or
    ``timeline`` (counts per successive interval, ``labels`` being the intervals)."""

    kind: str
    title: str
    labels: tuple[str, ...]
    series: dict[str, tuple[float, ...]]
    y_label: str = "cases"


@dataclass(frozen=True)
class Report:
    """One return for one period: ``figures`` are (label, value) pairs; ``export`` is the table a
    spreadsheet receives (CSV or XLSX); ``source`` cites the seed section the return answers."""

    kind: str
    title: str
    source: str
    period: Period
    generated_at: datetime
    figures: tuple[tuple[str, Any], ...]
    tables: tuple[Table, ...]
    charts: tuple[Chart, ...]
    export: Table
    notes: tuple[str, ...] = field(default=())

    def figure(self, label: str) -> Any:
        """The value of the figure called ``label``; KeyError when there is none."""
        for name, value in self.figures:
            if name == label:
                return value
        raise KeyError(label)
