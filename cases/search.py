"""Finding cases: by reference, child's name (accents and case ignored), NHS number or other
identifier, agency, protocol, stage, status and the date the case opened.

``find_cases`` returns the listing rows the workspace shows and ``/api/cases``
gives as JSON; ``chase_list`` is what is overdue or due today, with whom to chase.
Times are evaluated at ``now``; dates in a query are local (Europe/London) days.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from resdesk.cases.models import NEEDS_REVIEW, RESOLVED, Case
from resdesk.cases.lookup import normalise_identifier
from resdesk.cases.store import Store
from resdesk.cases.views import CalendarFor, _default_calendar, _message_counts, _summary, clock_for
from resdesk.protocols import Registry, to_local

STATUSES = ("open", "overdue", "needs-review", "resolved")


def fold(text: str | None) -> str:
    """Text for matching: accents removed, case folded, spaces collapsed ("Zoë" → "zoe")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


@dataclass(frozen=True)
class CaseQuery:
    """What to look for; every field is optional and they all must match.

    ``text`` matches the reference, the child's name, the child's identifier (NHS
    number with or without spaces) or an agency; ``opened_from``/``opened_to`` are
    local dates, inclusive.
    """

    text: str = ""
    agency: str = ""
    protocol: str = ""
    stage: int | None = None
    status: str = ""
    opened_from: date | None = None
    opened_to: date | None = None


def initials(name: str | None) -> str:
    """A child's initials for lists seen over a shoulder ("Zoë Ann Smith" → "Z.A.S.")."""
    return "".join(f"{part[0].upper()}." for part in (name or "").split() if part[0].isalpha()) or "-"


def _agencies(case: Case) -> list[str]:
    names = []
    for party in case.parties:
        label = party.agency or (party.email.split("@", 1)[1] if party.email and "@" in party.email else None)
        if label and label not in names:
            names.append(label)
    return names


def _row(case: Case, messages: int, clock) -> dict[str, Any]:
    row = _summary(case, messages, clock)
    row.update(
        child_name=case.child_name,
        child_identifier=case.child_identifier,
        initials=initials(case.child_name),
        agencies=_agencies(case),
        people=[p.name or p.email for p in case.parties if p.name or p.email],
        emails=[p.email for p in case.parties if p.email],
    )
    return row


def _matches_text(row: dict[str, Any], text: str) -> bool:
    wanted = fold(text)
    if not wanted:
        return True
    if wanted in fold(row["ref"]) or wanted in fold(row["child_name"]):
        return True
    identifier = normalise_identifier(text)
    if identifier and row["child_identifier"] and identifier == normalise_identifier(row["child_identifier"]):
        return True
    return any(wanted in fold(a) for a in row["agencies"] + row["emails"])


def _matches_status(row: dict[str, Any], status: str) -> bool:
    if status == "overdue":
        return bool(row["overdue"])
    if status == "open":
        return row["status"] not in (RESOLVED, "merged")
    if status == "needs-review":
        return row["status"] == NEEDS_REVIEW
    return row["status"] == status


def matches(row: dict[str, Any], query: CaseQuery) -> bool:
    """Whether one listing row answers the query (pure)."""
    if not _matches_text(row, query.text):
        return False
    if query.agency and not any(fold(query.agency) in fold(a) for a in row["agencies"] + row["emails"]):
        return False
    if query.protocol and row["protocol"] != query.protocol:
        return False
    if query.stage is not None and row["stage"] != query.stage:
        return False
    if query.status and not _matches_status(row, query.status):
        return False
    opened = datetime.fromisoformat(row["opened"]).date() if row["opened"] else None
    if query.opened_from and (opened is None or opened < query.opened_from):
        return False
    if query.opened_to and (opened is None or opened > query.opened_to):
        return False
    return True


def find_cases(
    store: Store, registry: Registry, now: datetime, query: CaseQuery = CaseQuery(),
    calendar_for: CalendarFor = _default_calendar,
) -> list[dict[str, Any]]:
    """The cases that answer ``query``, oldest first: each a ``case_summaries`` row plus
    ``child_name``, ``child_identifier``, ``initials``, ``agencies``, ``people`` and ``emails``."""
    with store.transaction() as tx:
        counts = _message_counts(tx)
        rows = [_row(c, counts.get(c.id, 0), clock_for(c, registry, now, calendar_for)) for c in tx.all_cases()]
    return [row for row in rows if matches(row, query)]


def chase_list(
    store: Store, registry: Registry, now: datetime, calendar_for: CalendarFor = _default_calendar
) -> list[dict[str, Any]]:
    """Open cases whose stage is overdue or due today, most overdue first; each row adds
    ``due_status`` and ``days_overdue`` (calendar days past the due time, local; 0 when due today)."""
    today = to_local(now).date()
    result = []
    with store.transaction() as tx:
        counts = _message_counts(tx)
        for case in tx.all_cases():
            if case.status in (RESOLVED, "merged"):
                continue
            clock = clock_for(case, registry, now, calendar_for)
            current = clock.stages[-1] if clock.stages else None
            if current is None or current.ended is not None:
                continue
            due_status = current.status.value
            cumulative = current.cumulative_status.value if current.cumulative_status else None
            if "overdue" not in (due_status, cumulative) and due_status != "due-today":
                continue
            row = _row(case, counts.get(case.id, 0), clock)
            late = due_status == "overdue" or cumulative == "overdue"
            due = current.due if due_status in ("overdue", "due-today") else current.cumulative_due
            row["due_status"] = "overdue" if late else "due-today"
            row["days_overdue"] = max((today - to_local(due).date()).days, 0) if due else 0
            result.append(row)
    return sorted(result, key=lambda r: -r["days_overdue"])
