"""Reports: the periodic returns each partnership must make, from the case file.

    parse_period("2026Q4") -> Period               a quarter, a month or a range of dates
    build_report(kind, store, period, registry, now) -> Report
    write_report(report, "pdf"|"docx"|"csv"|"xlsx") -> bytes

Counts come from SQL aggregates (``reports.queries``); stages are judged met or
missed by the protocol's own clock (``reports.stages``); charts are drawn by
matplotlib (``reports.charts``). Kinds and the seed sections they answer are
listed in ``reports.build``.
"""

from resdesk.reports.build import REPORT_KINDS, build_report, partnership_name
from resdesk.reports.charts import chart_png, chart_svg
from resdesk.reports.model import Chart, Report, Table
from resdesk.reports.period import Period, PeriodError, parse_period
from resdesk.reports.sandwell import COLUMNS as SANDWELL_LOG_COLUMNS
from resdesk.reports.writers import FORMATS, MEDIA_TYPES, report_html, write_report

__all__ = [
    "Chart",
    "FORMATS",
    "MEDIA_TYPES",
    "Period",
    "PeriodError",
    "REPORT_KINDS",
    "Report",
    "SANDWELL_LOG_COLUMNS",
    "Table",
    "build_report",
    "chart_png",
    "chart_svg",
    "parse_period",
    "partnership_name",
    "report_html",
    "write_report",
]
