"""The four form records (PRODUCT §6), validated with pydantic.

Field names are the product's contract; ``forms.labels`` maps the seeds' printed
labels onto them. Every value passes through one of the readers in
``forms.values``, so a record built from Word, PDF or email text is the same.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from resdesk.forms import values
from resdesk.protocols import AREAS, normalise_area

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(value: object) -> str | None:
    """Free text: line endings unified, spaces at line ends and empty edges removed."""
    if values.blank(value):
        return None
    if not isinstance(value, str):
        value = str(value)
    if _CONTROL.search(value):
        raise ValueError("holds control characters, which no form field can contain")
    lines = [line.rstrip() for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    text = "\n".join(lines).strip("\n").strip()
    return text or None


Text = Annotated[str | None, BeforeValidator(_text)]
UKDate = Annotated[date | None, BeforeValidator(values.uk_date)]
Identifier = Annotated[str | None, BeforeValidator(values.child_identifier)]
Email = Annotated[str | None, BeforeValidator(values.email_address)]
LevelOfNeed = Annotated[
    Literal["universal", "early-help", "child-in-need", "child-protection", "child-in-care", "care-leaver"]
    | None,
    BeforeValidator(values.level_of_need),
]
YesNo = Annotated[bool | None, BeforeValidator(values.yes_no)]
StageNumber = Annotated[int | None, Field(ge=0, le=9), BeforeValidator(values.stage_number)]
Age = Annotated[int | None, Field(ge=0, le=30), BeforeValidator(values.age_in_years)]


def _outcome(value: object) -> str | None:
    if values.blank(value):
        return None
    key = " ".join(re.sub(r"[^a-z]+", " ", str(value).lower()).split())
    choices = {
        "resolved": "resolved",
        "escalated": "escalated",
        "escalate": "escalated",
        "actions agreed": "actions-agreed",
        "agreed actions": "actions-agreed",
    }
    if key in choices:
        return choices[key]
    raise ValueError(f"'{str(value).strip()}' is not an outcome (resolved, escalated or actions-agreed)")


def _protocol_id(value: object) -> str | None:
    if values.blank(value):
        return None
    key = "-".join(re.sub(r"[^a-z0-9]+", " ", str(value).lower()).split())
    if not key:
        raise ValueError(f"'{value}' is not a protocol id")
    return key


def _area(value: object) -> str | None:
    if values.blank(value):
        return None
    area = normalise_area(str(value))
    if area is None:
        raise ValueError(f"'{str(value).strip()}' is not an area of disagreement ({', '.join(AREAS.values())})")
    return area


Area = Annotated[str | None, BeforeValidator(_area)]
Outcome = Annotated[
    Literal["resolved", "escalated", "actions-agreed"] | None, BeforeValidator(_outcome)
]
ProtocolId = Annotated[str | None, BeforeValidator(_protocol_id)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgreedAction(_Record):
    """One row of Oldham's "Agreed Actions" table (Appendix 2)."""

    action: Text = None
    owner: Text = None
    timeline: Text = None
    completed: YesNo = None


class ResolutionNotice(_Record):
    """Oldham Appendix 2 — Resolution Notice."""

    kind: Literal["resolution-notice"] = Field("resolution-notice", exclude=True)
    notification_date: UKDate = None
    child_name: Text = None
    child_dob: UKDate = None
    child_identifier: Identifier = None
    raised_by_name: Text = None
    raised_by_agency: Text = None
    raised_by_role: Text = None
    raised_by_contact: Text = None
    discussion_summary: Text = None
    outcome_summary: Text = None
    actions: list[AgreedAction] = Field(default_factory=list)


class ActionTaken(_Record):
    """One row of Sandwell Appendix 3's "Actions taken / By whom / Date completed" table."""

    action: Text = None
    by_whom: Text = None
    date_completed: UKDate = None


class EscalationConcern(_Record):
    """Sandwell Appendix 3 — Multi-Agency Escalation of Safeguarding Concern Resolution template."""

    kind: Literal["escalation-concern"] = Field("escalation-concern", exclude=True)
    child_name: Text = None
    child_dob: UKDate = None
    child_address: Text = None
    raised_by_name: Text = None
    raised_by_email: Email = None
    raised_by_role_agency: Text = None
    other_professionals: Text = None
    current_level_of_need: LevelOfNeed = None
    perceived_level_of_need: LevelOfNeed = None
    disagreement_details: Text = None
    discussion_date: UKDate = None
    methodology: Text = None
    resolved_at_level: StageNumber = None
    resolved_date: UKDate = None
    lessons_learned: Text = None
    actions: list[ActionTaken] = Field(default_factory=list)
    completed_by: Text = None
    completed_date: UKDate = None


class LogEntry(_Record):
    """One row of Sandwell Appendix 4 — Agency Escalation Summary Log."""

    escalation_number: Text = None
    child_name: Text = None
    child_dob: UKDate = None
    child_age: Age = None
    concern: Text = None
    level_of_need: LevelOfNeed = None
    disagreement_summary: Text = None
    action_taken: Text = None
    outcome: Text = None


class SummaryLog(_Record):
    """Sandwell Appendix 4 — Agency Escalation Summary Log."""

    kind: Literal["summary-log"] = Field("summary-log", exclude=True)
    agency: Text = None
    entries: list[LogEntry] = Field(default_factory=list)


class StageSummary(_Record):
    """The product's own template confirming a stage's outcome in writing."""

    kind: Literal["stage-summary"] = Field("stage-summary", exclude=True)
    case_ref: Text = None
    protocol: ProtocolId = None
    stage: StageNumber = None
    meeting_date: UKDate = None
    attendees: Text = None
    summary: Text = None
    area_of_disagreement: Area = None
    outcome: Outcome = None
    actions: list[AgreedAction] = Field(default_factory=list)


AnyRecord = Union[ResolutionNotice, EscalationConcern, SummaryLog, StageSummary]

RECORD_TYPES: dict[str, type[_Record]] = {
    "resolution-notice": ResolutionNotice,
    "escalation-concern": EscalationConcern,
    "summary-log": SummaryLog,
    "stage-summary": StageSummary,
}
KINDS = tuple(RECORD_TYPES)

# The fields a filled form of each kind must carry to be worth filing.
REQUIRED: dict[str, tuple[str, ...]] = {
    "resolution-notice": ("child_name", "raised_by_name"),
    "escalation-concern": ("child_name", "raised_by_name"),
    "summary-log": ("agency",),
    "stage-summary": ("stage", "outcome"),
}

# Fields that are lists of rows, and the row model of each.
ROW_TYPES: dict[str, dict[str, type[_Record]]] = {
    "resolution-notice": {"actions": AgreedAction},
    "escalation-concern": {"actions": ActionTaken},
    "summary-log": {"entries": LogEntry},
    "stage-summary": {"actions": AgreedAction},
}


def scalar_fields(kind: str) -> list[str]:
    """The single-valued fields of a kind, in the template's order."""
    model = RECORD_TYPES[kind]
    return [name for name in model.model_fields if name != "kind" and name not in ROW_TYPES[kind]]


class FormRecord(BaseModel):
    """What a reader returns: the kind of form and its validated record."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["resolution-notice", "escalation-concern", "summary-log", "stage-summary"]
    record: AnyRecord

    @property
    def fields(self) -> dict:
        """The record's fields as JSON-ready values (dates as ISO text)."""
        return self.record.model_dump(mode="json")

    def as_json(self) -> dict:
        """``{"kind": ..., "fields": {...}}`` as ``resdesk forms parse --json`` prints it."""
        return {"kind": self.kind, "fields": self.fields}
