"""The returns in the workspace: ``/reports`` shows a return's figures, tables and charts for a
chosen period and offers every return as PDF, Word, CSV or XLSX (``/reports/download``).

The page and the files are made by the same call (``resdesk.reports.build_report``) as at the
same moment: each download link carries the page's ``as_at`` time, so a file holds the numbers
the page showed. Charts are the SVG ``reports.charts`` draws, shown as images (data: URLs, which
the workspace's Content-Security-Policy allows), so the page needs no script and fetches nothing.
Auditors and the business unit (and admins) may see and download; downloads are GET requests,
audited as ``downloaded``, and change nothing.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Mapping

from flask import Blueprint, render_template, request, url_for

from resdesk.cases.models import AUDITOR
from resdesk.errors import UsageError
from resdesk.protocols import to_local
from resdesk.reports import (
    FORMATS,
    MEDIA_TYPES,
    REPORT_KINDS,
    Period,
    PeriodError,
    Report,
    build_report,
    chart_svg,
    parse_period,
    partnership_name,
    write_report,
)
from resdesk.web.access import requires
from resdesk.web.app import workspace
from resdesk.web.see import attachment

blueprint = Blueprint("reports", __name__)

# What each return is called on the page, in plain words.
KIND_NAMES = {
    "activity": "Escalation activity (every protocol)",
    "oldham-themes": "Oldham: themes from escalations (quarterly)",
    "sandwell-summary-log": "Sandwell: Agency Escalation Summary Log (Appendix 4)",
    "gloucestershire-strategic-log": "Gloucestershire: strategic escalation log (stage 4)",
}
FORMAT_NAMES = {"pdf": "PDF", "docx": "Word", "csv": "CSV", "xlsx": "Excel"}
PERIOD_KINDS = ("quarter", "month", "dates")
# What the page says when a period cannot be read (by how it was chosen, and why).
_PLAIN_ERRORS = {
    "quarter": "Choose one of the quarters listed.",
    "month": "That is not a month. Choose a month and a year.",
    "dates": "Give the first and the last day as dates.",
    ("dates", "ends before it starts"): "The last day is before the first day. Check the dates and try again.",
    ("dates", "names a date that does not exist"): "One of those dates does not exist. Check the dates and try again.",
}
_QUARTER_MONTHS = {1: "January to March", 2: "April to June", 3: "July to September", 4: "October to December"}


@dataclass(frozen=True)
class Choice:
    """What a person asked for on the form, and the period it names (None while it has an error)."""

    kind: str
    by: str
    quarter: str
    month: str
    first: str
    last: str
    agency: str
    period: Period | None
    error: str | None


def _quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarters_before(day: date, count: int = 8) -> list[tuple[str, str]]:
    """The quarter holding ``day`` and the ``count - 1`` before it, newest first: (``2026Q4``, words)."""
    year, quarter = day.year, (day.month - 1) // 3 + 1
    found = []
    for _ in range(count):
        found.append((f"{year}Q{quarter}", f"{_QUARTER_MONTHS[quarter]} {year}"))
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    return found


def read_choice(form: Mapping[str, str], today: date) -> Choice:
    """The return and period a person chose (pure). The period is a quarter, a month or two dates;
    anything else gives a ``Choice`` with a plain ``error`` and no period."""
    kind = form.get("kind") or "activity"
    by = form.get("by") or "quarter"
    quarter = (form.get("quarter") or _quarter_of(today)).strip()
    month = (form.get("month") or "").strip()
    first, last = (form.get("first") or "").strip(), (form.get("last") or "").strip()
    agency = " ".join((form.get("agency") or "").split())[:200]
    values = dict(kind=kind, by=by, quarter=quarter, month=month, first=first, last=last, agency=agency)
    if kind not in REPORT_KINDS:
        return Choice(**values, period=None, error="Choose one of the reports listed.")
    if by not in PERIOD_KINDS:
        return Choice(**values, period=None, error="Choose a quarter, a month or two dates.")
    if by == "month" and not month:
        return Choice(**values, period=None, error="Choose the month.")
    if by == "dates" and not (first and last):
        return Choice(**values, period=None, error="Give both the first and the last day.")
    text = {"quarter": quarter, "month": month, "dates": f"{first}..{last}"}[by]
    try:
        return Choice(**values, period=parse_period(text), error=None)
    except PeriodError as exc:
        return Choice(**values, period=None, error=_PLAIN_ERRORS.get((by, exc.reason), _PLAIN_ERRORS[by]))


def _chart_image(chart) -> dict[str, str]:
    svg = base64.b64encode(chart_svg(chart).encode("utf-8")).decode("ascii")
    return {"title": chart.title, "src": f"data:image/svg+xml;base64,{svg}"}


def _build(kind: str, period: Period, agency: str, as_at: datetime) -> Report:
    ws = workspace()
    return build_report(kind, ws.store, period, ws.registry, as_at, ws.calendar_for,
                        agency=agency if kind == "sandwell-summary-log" and agency else None)


def _downloads(choice: Choice, as_at: datetime) -> list[dict[str, Any]]:
    """One row per return, one link per format, for the chosen period and the page's moment."""
    rows = []
    for kind in REPORT_KINDS:
        query = {"kind": kind, "period": choice.period.label, "as_at": as_at.isoformat()}
        if kind == "sandwell-summary-log" and choice.agency:
            query["agency"] = choice.agency
        rows.append({"name": KIND_NAMES[kind], "links": [
            {"format": FORMAT_NAMES[fmt], "href": url_for("reports.download", format=fmt, **query)} for fmt in FORMATS
        ]})
    return rows


@blueprint.get("/reports")
@requires(AUDITOR)
def page():
    now = workspace().now()
    choice = read_choice(request.args, to_local(now).date())
    report = downloads = charts = None
    error = choice.error
    if choice.period is not None:
        try:
            report = _build(choice.kind, choice.period, choice.agency, now)
        except UsageError as exc:
            error = str(exc)
        else:
            charts = [_chart_image(chart) for chart in report.charts]
            downloads = _downloads(choice, now)
    return render_template(
        "reports.html", choice=choice, error=error, report=report, charts=charts, downloads=downloads,
        kinds=KIND_NAMES, quarters=quarters_before(to_local(now).date()), as_at=now,
    ), (400 if error else 200)


def _as_at(text: str | None) -> datetime | None:
    """The moment a download is made as at: the page's, carried in the link (None when it is not a
    time with its zone, or is later than now)."""
    now = workspace().now()
    if not text:
        return now
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None or moment > now:
        return None
    return moment.astimezone(timezone.utc)


def _refused(text: str):
    return render_template("error.html", status=400, title="That file cannot be made", text=text), 400


@blueprint.get("/reports/download")
@requires(AUDITOR)
def download():
    """One return as a file: ``kind`` (default ``activity``), ``format`` (default ``pdf``), ``period``
    (default this quarter), ``as_at`` (default now) and, for Sandwell's log, ``agency``."""
    args = request.args
    kind, fmt = args.get("kind") or "activity", args.get("format") or "pdf"
    if kind not in REPORT_KINDS or fmt not in FORMATS:
        return _refused("There is no such report or file type. Choose one from the Reports page.")
    try:
        period = parse_period(args.get("period") or _quarter_of(to_local(workspace().now()).date()))
    except PeriodError:
        return _refused("The period in the link is not a quarter, a month or two dates. Choose it again on the Reports page.")
    as_at = _as_at(args.get("as_at"))
    if as_at is None:
        return _refused("The time in the link is not one this file can be made for. Open the Reports page again.")
    agency = " ".join((args.get("agency") or "").split())[:200]
    report = _build(kind, period, agency, as_at)
    ws = workspace()
    content = write_report(report, fmt, partnership_name(ws.registry, ws.settings.partnership.protocol))
    return attachment(content, f"{kind}-{period.slug}.{fmt}", MEDIA_TYPES[fmt])
