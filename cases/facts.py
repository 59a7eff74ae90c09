"""Case facts in the case file: set, corrected and cleared, each an audited event.

The vocabulary is ``resdesk.protocols.facts`` (one table of definitions). A fact's
current value is a ``CaseFact`` row; every change also adds a ``fact-set`` or
``fact-cleared`` event on the case (its history, shown on the timeline) and an
entry in the audit chain. The stage clock reads the facts as inputs
(``clock_inputs``), so deadlines, statuses and owed notices follow a correction
the next time they are computed, which is every listing and every tick.

Precedence: a person's value is never replaced by mail; a stated value (form or
typed line) replaces an estimate; an estimate never replaces a stated value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import String, Subquery, func, inspect, literal_column, select, type_coerce

from resdesk.cases.models import Case, CaseFact, utcnow
from resdesk.protocols.facts import (
    ESTIMATED,
    FACTS,
    FROM_PERSON,
    SOURCES,
    definition,
    parse_value,
)
from resdesk.protocols.timeparse import to_local
from resdesk.errors import UsageError

FACT_SET, FACT_CLEARED = "fact-set", "fact-cleared"


@dataclass(frozen=True)
class FactValue:
    """One fact as a case holds it.

    ``value``: ISO 8601 local time for a moment, bool for a flag, str for text,
    list of str for names. ``source``: ``form``, ``message``, ``person`` or
    ``estimated``. ``detail``: where it was read (form field, typed line, quoted
    sentence).
    """

    name: str
    value: Any
    source: str
    estimated: bool
    set_by: str
    set_at: datetime
    reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "source": self.source,
            "estimated": self.estimated,
            "set_by": self.set_by,
            "set_at": to_local(self.set_at).isoformat(),
            "reason": self.reason,
        }

    @property
    def moment(self) -> datetime | None:
        return datetime.fromisoformat(self.value) if isinstance(self.value, str) else None


def facts_of(case: Case) -> dict[str, FactValue]:
    """The case's facts by name."""
    return {
        row.name: FactValue(row.name, row.value, row.source, bool(row.estimated), row.set_by, row.set_at,
                            row.reason, dict(row.detail or {}))
        for row in case.facts
    }


def _row(case: Case, name: str) -> CaseFact | None:
    return next((row for row in case.facts if row.name == name), None)


def set_fact(
    tx,
    case: Case,
    name: str,
    value: object,
    *,
    by: str,
    reason: str | None = None,
    at: datetime | None = None,
    source: str = FROM_PERSON,
    detail: Mapping[str, Any] | None = None,
) -> FactValue:
    """Set (or correct) one fact on ``case``, as an audited event; return the fact as now held.

    ``name`` is a fact of ``protocols.facts.FACTS`` or ``stage_N_start`` (``_`` and
    ``-`` alike); ``value`` is typed (datetime, bool, list) or a person's text
    (``2026-11-23T09:00``, ``23/11/2026``, ``yes``, ``Police, Health``). ``by`` names
    the person (or ``resdesk-intake``), ``reason`` says why, ``at`` is when
    (default now, UTC). A person's value is final until a person changes it.
    Raises UsageError for an unknown fact or an unreadable value, or a person's
    change without a reason. This is what ``resdesk case REF --set`` and the web
    workspace call, inside their own unit of work (``store.transaction()``); the fact is
    written with that unit's next flush, its event and its audit entry at once (``cases.store``),
    and all of them commit or roll back together.
    """
    fact = definition(name)
    if source not in SOURCES:
        raise UsageError(f"A case fact's source is one of {', '.join(SOURCES)}, not '{source}'.")
    if source == FROM_PERSON and not (reason and reason.strip()):
        raise UsageError(f"Say why the case fact {fact.name} is set (--reason).")
    typed = parse_value(fact, value)
    at = at or utcnow()
    with tx.session.no_autoflush:  # facts set but not yet written are in the list too
        row = _row(case, fact.name)
    previous = None if row is None else row.value
    values = {"value": typed, "source": source, "estimated": source == ESTIMATED, "set_by": by, "set_at": at,
              "reason": reason, "detail": dict(detail or {})}
    if row is None:
        tx.insert_row(CaseFact, case, "facts", {"name": fact.name, **values})
    else:
        for key, new in values.items():
            setattr(row, key, new)
    payload = {"name": fact.name, "value": typed, "previous": previous, "source": source, "reason": reason,
               **({"detail": dict(detail)} if detail else {})}
    tx.add_event(case, FACT_SET, at, stage=case.stage, detail=payload)
    tx.audit(by, FACT_SET, case.ref, payload, at=at)
    case.updated_at = utcnow()
    return facts_of(case)[fact.name]


def clear_fact(tx, case: Case, name: str, *, by: str, reason: str | None = None, at: datetime | None = None) -> None:
    """Clear one fact (it becomes unknown again), as an audited event. UsageError for an unknown fact."""
    fact = definition(name)
    row = _row(case, fact.name)
    at = at or utcnow()
    payload = {"name": fact.name, "previous": None if row is None else row.value, "reason": reason}
    if row is not None:
        case.facts.remove(row)
        if inspect(row).pending:  # set in this unit of work and not yet written: nothing to delete
            tx.session.expunge(row)
        else:
            tx.session.delete(row)
    tx.add_event(case, FACT_CLEARED, at, stage=case.stage, detail=payload)
    tx.audit(by, FACT_CLEARED, case.ref, payload, at=at)
    case.updated_at = utcnow()
    tx.session.flush()  # the row is gone before the same fact can be set again (a flush inserts before it deletes)


def record_fact(
    tx, case: Case, name: str, value: object, *, source: str, by: str, at: datetime,
    detail: Mapping[str, Any] | None = None,
) -> FactValue | None:
    """A fact read from mail (``form``, ``message``) or estimated: set it unless it would
    override a person's value, or an estimate would replace a stated one. Returns the
    fact if it changed, else None. An unreadable value raises UsageError."""
    fact = definition(name)
    with tx.session.no_autoflush:  # facts set but not yet written are in the list too
        held = facts_of(case).get(fact.name)
    if held is None and source == ESTIMATED:
        # A first estimate is the time of the message that opened the case, which the case-opened
        # audit entry already records: it gets no event of its own (intake stays one write per fact read).
        tx.insert_row(CaseFact, case, "facts", {
            "name": fact.name, "value": parse_value(fact, value), "source": ESTIMATED, "estimated": True,
            "set_by": by, "set_at": at, "reason": "estimated", "detail": dict(detail or {}),
        })
        return facts_of(case)[fact.name]
    if held is not None:
        if held.source == FROM_PERSON or (source == ESTIMATED and held.source != ESTIMATED):
            return None
        if held.value == parse_value(definition(name), value) and held.source == source:
            return None
    return set_fact(tx, case, name, value, by=by, at=at, source=source, detail=detail,
                    reason=f"read from {source}" if source != ESTIMATED else "estimated")


@dataclass(frozen=True)
class ClockInputs:
    """What the stage clock takes from the case facts."""

    case_start: datetime | None
    case_start_estimated: bool
    stage_starts: dict[int, datetime]
    conditions: dict[str, bool]


def clock_inputs(facts: Mapping[str, FactValue]) -> ClockInputs:
    """The case start, stated stage starts and known conditions, from a case's facts."""
    start = facts.get("case_start")
    stage_starts: dict[int, datetime] = {}
    for name, fact in facts.items():
        if name.startswith("stage_") and name.endswith("_start") and not fact.estimated and fact.moment:
            stage_starts[int(name.split("_")[1])] = fact.moment
    conditions = {
        name: bool(fact.value) for name, fact in facts.items()
        if name in FACTS and FACTS[name].kind == "flag"
    }
    return ClockInputs(
        case_start=start.moment if start else None,
        case_start_estimated=bool(start and start.estimated),
        stage_starts=stage_starts,
        conditions=conditions,
    )


def needed_facts(facts: Mapping[str, FactValue], extra: Iterable[str] = ()) -> list[str]:
    """The facts a person should supply: needed ones unknown or only estimated, and ``extra``."""
    needed = [
        name for name, fact in FACTS.items()
        if fact.needed and (name not in facts or facts[name].estimated)
    ]
    return needed + [name for name in extra if name not in needed and (name not in facts or facts[name].estimated)]


def fact_texts(name: str, dialect: str) -> Subquery:
    """The value of the fact ``name`` on every case that holds it, as text, for SQL aggregates:
    a subquery of ``(case_id, value)`` rows to outer-join on ``cases.id`` (``dialect`` is
    ``sqlite`` or ``postgresql``). Text and area facts read as themselves; the returns
    (``resdesk.reports``) count cases by them without loading a case.
    """
    definition(name)  # an unknown fact raises UsageError here, not an empty column later
    if dialect == "postgresql":
        text = CaseFact.value.op("#>>")(literal_column("'{}'"))
    else:
        text = func.json_extract(CaseFact.value, "$")
    return (
        select(CaseFact.case_id.label("case_id"), type_coerce(text, String()).label("value"))
        .where(CaseFact.name == name)
        .subquery(f"fact_{name}")
    )
