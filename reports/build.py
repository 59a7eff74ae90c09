"""Which returns exist and how each is built from the case file.

| kind | what it answers |
|---|---|
| ``activity`` | every protocol: cases, stages against due times, agency pairs, areas |
| ``oldham-themes`` | Oldham §1.6: themes from stage 3 and 4 escalations, quarterly |
| ``sandwell-summary-log`` | Sandwell Appendix 4: the agency escalation summary log |
| ``gloucestershire-strategic-log`` | GSCP Stage Four: themes recurring across stage 4 escalations |
"""

from __future__ import annotations

from datetime import datetime

from resdesk.cases import Store
from resdesk.errors import ProtocolError, UsageError
from resdesk.protocols import Protocol, Registry, WorkingCalendar

from .activity import activity_report
from .model import Report
from .period import Period
from .sandwell import sandwell_summary_log
from .stages import CalendarFor
from .themes import gloucestershire_strategic_log, oldham_themes

REPORT_KINDS = ("activity", "oldham-themes", "sandwell-summary-log", "gloucestershire-strategic-log")


def _default_calendar(protocol: Protocol) -> WorkingCalendar:
    return WorkingCalendar(protocol.nation)


def build_report(
    kind: str,
    store: Store,
    period: Period,
    registry: Registry,
    now: datetime,
    calendar_for: CalendarFor = _default_calendar,
    agency: str | None = None,
) -> Report:
    """The return ``kind`` for ``period`` as at ``now``, read in one transaction.

    ``agency`` narrows the Sandwell summary log to one raising agency; it is
    refused for the other kinds. ``UsageError`` names the kinds when ``kind`` is
    not one of them.
    """
    if kind not in REPORT_KINDS:
        raise UsageError(f"There is no report {kind!r}; choose one of {', '.join(REPORT_KINDS)}.")
    if agency and kind != "sandwell-summary-log":
        raise UsageError("--agency narrows only the sandwell-summary-log report.")
    with store.transaction() as tx:
        session = tx.session
        if kind == "activity":
            return activity_report(session, period, registry, now, calendar_for)
        if kind == "oldham-themes":
            return oldham_themes(session, period, now)
        if kind == "gloucestershire-strategic-log":
            return gloucestershire_strategic_log(session, period, now)
        return sandwell_summary_log(session, period, registry, now, agency)


def partnership_name(registry: Registry, protocol_id: str) -> str:
    """The partnership a return is made for (the settings' protocol's name), printed at its head."""
    try:
        return registry.get(protocol_id).name
    except ProtocolError:
        return "Resolution Desk"
