"""The case facts vocabulary: one table of every fact a case can hold (pure data).

A *case fact* is something the protocol's rules depend on that the case's mail may
or may not state: the moment the cumulative targets count from (``case_start``),
when each stage started (``stage_N_start``), the conditions that decide notices
(``threshold-dispute``, ...), and the agencies involved. Each has a value, a
source (a form field, a labelled line in a message, a person, or an estimate) and
a history; the case file keeps them (``resdesk.cases.facts``).

To add a fact, add one ``FactDefinition`` to ``FACTS``: its name, its kind
(``moment``, ``flag``, ``text``, ``names`` or ``area``, one of the seeds' areas
of disagreement, ``protocols.areas``), the labels a person may type in a
message to state it, and the form fields that carry it. Nothing else changes.

Not to be confused with ``resdesk.render.snapshot.CaseSnapshot``, the read-only
copy of a case's events that documents are drawn from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import Enum
from typing import Literal

from resdesk.errors import UsageError
from resdesk.protocols.areas import AREA_LABELS, AREAS, RAISING_AGENCY_LABELS, RESPONDING_AGENCY_LABELS, normalise_area
from resdesk.protocols.timeparse import parse_when, to_local

FactKind = Literal["moment", "flag", "text", "names", "area"]

# Where a fact's value came from.
FROM_FORM, FROM_MESSAGE, FROM_PERSON, ESTIMATED = "form", "message", "person", "estimated"
SOURCES = (FROM_FORM, FROM_MESSAGE, FROM_PERSON, ESTIMATED)


class Condition(str, Enum):
    """The conditions, one vocabulary for every protocol, on which notices and stages depend."""

    CHILD_PROTECTION_PLAN_OR_LOOKED_AFTER = "child-protection-plan-or-looked-after"
    THRESHOLD_DISPUTE = "threshold-dispute"
    CHILDRENS_TRUST_INVOLVED = "childrens-trust-involved"
    URGENT = "urgent"
    IMMINENT_RISK = "imminent-risk"
    LESSONS_LEARNED = "lessons-learned"
    CONFERENCE_REQUESTED = "conference-requested"


@dataclass(frozen=True)
class FactDefinition:
    """One fact a case can hold.

    ``labels`` are the typed labels that state it on a line of a message
    (``Threshold dispute: yes``); ``form_fields`` the filled-template fields
    (``kind.field``) that carry it; ``mentions`` the phrases that, met in prose,
    put the case on the needs-review list for a person to confirm (never set it).
    """

    name: str
    kind: FactKind
    description: str
    labels: tuple[str, ...] = ()
    form_fields: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    needed: bool = False  # listed as needed while unknown or estimated

    @property
    def example(self) -> str:
        """A value a person could type for this fact, for hints (``yes``, ``thresholds``, ``23/11/2026``)."""
        return {"flag": "yes", "area": "thresholds", "moment": "23/11/2026"}.get(self.kind, "...")


_FACTS: tuple[FactDefinition, ...] = (
    FactDefinition(
        "case_start", "moment",
        "The moment the protocol's cumulative targets count from, as the definition's case_start names it.",
        labels=("Date raised", "Date concern raised", "Date of disagreement", "Date of discussion"),
        form_fields=("escalation-concern.discussion_date",),
        needed=True,
    ),
    FactDefinition(
        Condition.CHILD_PROTECTION_PLAN_OR_LOOKED_AFTER.value, "flag",
        "The child is subject to a Child Protection Plan or is a Child Looked After.",
        labels=("Child protection plan or looked after", "Child protection plan", "Looked after"),
        mentions=("child protection plan", "looked after", "cla", "cpp"),
    ),
    FactDefinition(
        Condition.THRESHOLD_DISPUTE.value, "flag",
        "The disagreement is about thresholds (level of need).",
        labels=("Threshold dispute",),
        mentions=("threshold",),
    ),
    FactDefinition(
        Condition.CHILDRENS_TRUST_INVOLVED.value, "flag",
        "Sandwell Children's Trust is a party to the disagreement.",
        labels=("Children's Trust involved", "Childrens Trust involved"),
        mentions=("children's trust", "childrens trust"),
    ),
    FactDefinition(
        Condition.URGENT.value, "flag",
        "The matter is urgent (LSCP/LSAB step 4 urgent rather than non-urgent).",
        labels=("Urgent",),
    ),
    FactDefinition(
        Condition.IMMINENT_RISK.value, "flag",
        "A child is at imminent risk of significant harm.",
        labels=("Imminent risk",),
        mentions=("imminent risk",),
    ),
    FactDefinition(
        Condition.LESSONS_LEARNED.value, "flag",
        "The case holds lessons to be learned, for the partnership's review group.",
        labels=("Lessons learned", "Lessons learnt"),
    ),
    FactDefinition(
        Condition.CONFERENCE_REQUESTED.value, "flag",
        "The agency formally requests that children's social care convene a child protection conference "
        "(Haringey §6, after stage 1).",
        labels=("Conference requested", "Child protection conference requested"),
    ),
    FactDefinition(
        "area_of_disagreement", "area",
        "What the professionals disagree about, one of the seeds' areas (Sandwell §6, Haringey §4, "
        "Gloucestershire's Potential Areas of Disagreement); the returns count cases by it.",
        labels=AREA_LABELS,
        form_fields=("stage-summary.area_of_disagreement",),
    ),
    FactDefinition(
        "raising_agency", "text", "The agency raising the concern.",
        labels=RAISING_AGENCY_LABELS,
        form_fields=("escalation-concern.raised_by_agency", "escalation-concern.raised_by_role_agency",
                     "resolution-notice.raised_by_agency"),
    ),
    FactDefinition(
        "responding_agency", "text", "The agency the concern is raised with (the receiving agency).",
        labels=RESPONDING_AGENCY_LABELS,
    ),
    FactDefinition(
        "agencies", "names", "Every agency involved, raising and responding.",
        labels=("Agencies involved", "Agencies"),
    ),
)
FACTS: dict[str, FactDefinition] = {fact.name: fact for fact in _FACTS}
_STAGE_START = re.compile(r"^stage[_-]?(\d)[_-]start$")


def stage_start_fact(stage: int) -> str:
    """The name of the fact holding when ``stage`` started, e.g. ``stage_2_start``."""
    return f"stage_{stage}_start"


def definition(name: str) -> FactDefinition:
    """The definition of a fact, by name (``_`` and ``-`` are the same); UsageError if unknown."""
    key = name.strip().lower()
    for candidate in (key, key.replace("_", "-"), key.replace("-", "_")):
        if candidate in FACTS:
            return FACTS[candidate]
        if match := _STAGE_START.match(candidate):
            stage = int(match.group(1))
            return FactDefinition(stage_start_fact(stage), "moment", f"When stage {stage} started, by the protocol's own trigger.",
                                  labels=(f"Stage {stage} started", f"Stage {stage} start"))
    known = ", ".join([*FACTS, "stage_N_start"])
    raise UsageError(f"There is no case fact '{name}'; known facts are {known}.")


_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}
_UK_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?:[ T,]+(\d{1,2})[:.](\d{2}))?$")


def parse_moment(text: str) -> datetime:
    """An ISO date-time, or a UK date ``23/11/2026`` (optionally ``09:30``); local time (Europe/London).

    A bare date is the start of that day. Raises UsageError for anything else.
    """
    value = " ".join(text.split())
    if match := _UK_DATE.match(value):
        day, month, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        year += 2000 if year < 100 else 0
        hour, minute = int(match.group(4) or 0), int(match.group(5) or 0)
        try:
            return to_local(datetime.combine(date(year, month, day), time(hour, minute)))
        except ValueError:
            raise UsageError(f"'{text}' is not a real date (day/month/year).") from None
    return parse_when(value, what="date")


def parse_value(fact: FactDefinition, value: object) -> object:
    """A value for ``fact`` from a person's text or a typed value, as JSON-able data.

    moment -> ISO 8601 string (local time); flag -> bool; text -> str (at most 200 characters);
    names -> list of str; area -> the area's slug (``thresholds``, ``drift-and-delay``).
    Raises UsageError naming the fact when the value cannot be read.
    """
    if fact.kind == "moment":
        if isinstance(value, datetime):
            return to_local(value).isoformat()
        if isinstance(value, date):
            return to_local(datetime.combine(value, time())).isoformat()
        return parse_moment(str(value)).isoformat()
    if fact.kind == "flag":
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower().rstrip(".")
        if word in _YES:
            return True
        if word in _NO:
            return False
        raise UsageError(f"The case fact {fact.name} is yes or no, not '{value}'.")
    if fact.kind == "area":
        area = normalise_area(str(value))
        if area is None:
            raise UsageError(f"The case fact {fact.name} is one of the areas of disagreement "
                             f"({', '.join(AREAS.values())}), not '{value}'.")
        return area
    if fact.kind == "names":
        items = value if isinstance(value, (list, tuple)) else str(value).split(",")
        return sorted({" ".join(str(item).split()) for item in items if str(item).strip()})
    text = " ".join(str(value).split())
    if not text:
        raise UsageError(f"The case fact {fact.name} needs a value.")
    return text[:200]
