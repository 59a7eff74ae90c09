"""A return written as PDF, Word, CSV or XLSX: one ``Report``, four formats, the same numbers.

The PDF is ``render``'s HTML template ``report.html`` through its sandboxed,
autoescaping environment and locked-down fetcher, with each chart inline as the
SVG ``reports.charts`` draws (text as outlines: nothing to fetch). The Word
file is built with python-docx, charts as PNG pictures. CSV (UTF-8 with a byte
order mark, so spreadsheet programs read the accents) and XLSX (openpyxl) hold
the report's export table, headings first.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any, Callable

from markupsafe import Markup

from resdesk.render import html_to_pdf, render_html
from resdesk.protocols import to_local
from resdesk.errors import UsageError

from .charts import chart_png, chart_svg
from .model import Report

FORMATS = ("pdf", "docx", "csv", "xlsx")
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _view(report: Report, partnership: str) -> dict[str, Any]:
    return {
        "title": report.title,
        "source": report.source,
        "partnership": partnership,
        "period_label": report.period.label,
        "period_first": report.period.first,
        "period_last": report.period.last,
        "generated_at": report.generated_at,
        "figures": [(label, value) for label, value in report.figures],
        # The chart SVG is drawn by matplotlib from counts and fixed labels; its text is outlines.
        "charts": [{"title": c.title, "svg": Markup(chart_svg(c))} for c in report.charts],
        "tables": [
            {"title": t.title, "columns": list(t.columns), "rows": [[_cell(v) for v in r] for r in t.rows],
             "note": t.note}
            for t in report.tables
        ],
        "notes": list(report.notes),
    }


def report_html(report: Report, partnership: str = "Resolution Desk") -> str:
    """The report's HTML page (the PDF's source, and what the workspace shows)."""
    return render_html("report.html", _view(report, partnership))


def report_pdf(report: Report, partnership: str = "Resolution Desk") -> bytes:
    """The report as a tagged A4 landscape PDF with its charts embedded as vector graphics."""
    return html_to_pdf(report_html(report, partnership))


def report_docx(report: Report, partnership: str = "Resolution Desk") -> bytes:
    """The report as a Word document: figures, charts as pictures, tables."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    document.core_properties.title = f"{report.title}: {report.period.label}"
    document.add_paragraph(partnership)
    document.add_heading(report.title, level=1)
    document.add_paragraph(f"Period: {report.period.label} ({report.period.first:%d %B %Y} to "
                           f"{report.period.last:%d %B %Y}). Produced {to_local(report.generated_at):%d %B %Y %H:%M}.")
    document.add_paragraph(report.source)
    document.add_heading("Figures", level=2)
    figures = document.add_table(rows=0, cols=2)
    figures.style = "Table Grid"
    for label, value in report.figures:
        cells = figures.add_row().cells
        cells[0].text, cells[1].text = label, "—" if value is None else str(value)
    for chart in report.charts:
        document.add_picture(io.BytesIO(chart_png(chart)), width=Cm(22))
        document.add_paragraph(chart.title)
    for table in report.tables:
        document.add_heading(table.title, level=2)
        if not table.rows:
            document.add_paragraph("Nothing recorded in this period.")
            continue
        grid = document.add_table(rows=1, cols=len(table.columns))
        grid.style = "Table Grid"
        for cell, column in zip(grid.rows[0].cells, table.columns):
            cell.text = column
        for row in table.rows:
            for cell, value in zip(grid.add_row().cells, row):
                cell.text = "" if value is None else str(_cell(value))
    for note in report.notes:
        document.add_paragraph(note)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def report_csv(report: Report) -> bytes:
    """The export table as CSV: the headings, then one line per row."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(report.export.columns)
    for row in report.export.rows:
        writer.writerow(["" if v is None else _cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def report_xlsx(report: Report) -> bytes:
    """The export table as an Excel workbook: one sheet, headings in bold, frozen under them."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = report.kind[:31]
    sheet.append(list(report.export.columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in report.export.rows:
        sheet.append([_cell(v) for v in row])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and "\n" in cell.value:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    workbook.properties.title = f"{report.title}: {report.period.label}"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


_WRITERS: dict[str, Callable[..., bytes]] = {
    "pdf": report_pdf, "docx": report_docx, "csv": lambda r, _p: report_csv(r), "xlsx": lambda r, _p: report_xlsx(r),
}


def write_report(report: Report, fmt: str, partnership: str = "Resolution Desk") -> bytes:
    """The report in ``fmt`` (pdf, docx, csv or xlsx); ``UsageError`` for any other format."""
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise UsageError(f"There is no report format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    return writer(report, partnership)
