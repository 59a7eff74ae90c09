"""What each document shows, as plain data.

Renderers are pure functions from one of these views to bytes; whoever builds a
view (the case file, the clock tick, a test) needs nothing else. Times may be
naive (read as Europe/London local time) or carry an offset; documents always
print them in local time. Free text is printed exactly as given: templates
escape it, never interpret it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Party",
    "RecordedItem",
    "ActionRow",
    "TimelineRow",
    "ChildDetails",
    "Letter",
    "AcknowledgementView",
    "NoticeView",
    "NOTICE_KINDS",
    "ReminderView",
    "ResolutionNoticeView",
    "EscalationConcernView",
    "StageRow",
    "EventRow",
    "MessageRow",
    "DocumentRow",
    "DeadlineRow",
    "CaseRecordView",
]


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Party(_View):
    """A person or team a document is addressed to or names."""

    name: str
    organisation: str = ""
    role: str = ""
    email: str = ""


class RecordedItem(_View):
    """One thing the product recorded from a message: a label and its value."""

    label: str
    value: str


class ActionRow(_View):
    """An agreed action (Oldham Appendix 2 and the stage summary share this shape)."""

    action: str
    owner: str = ""
    timeline: str = ""
    completed: bool | None = None


class TimelineRow(_View):
    """One dated line of a case's history, as told in a notice."""

    at: datetime
    stage: int | None = None
    description: str


class ChildDetails(_View):
    name: str = ""
    dob: date | None = None
    identifier: str = ""
    plan: str = Field("", description="e.g. 'Child Protection Plan' or 'Child Looked After'.")


class Letter(_View):
    """What every letter-like document carries: who, to whom, about which case, when."""

    case_ref: str
    protocol_name: str
    sender_agency: str
    recipient: Party
    issued_at: datetime


class AcknowledgementView(Letter):
    """The reply to every recorded message: what was recorded and what is due next."""

    received_at: datetime
    received_subject: str
    what_was_recorded: str
    recorded: list[RecordedItem] = []
    stage: int
    stage_name: str
    due: datetime | None = None
    basis: str = Field(description="The timescale in words: '2 working days', 'no fixed timescale'.")
    cumulative_due: datetime | None = None
    next_action: str
    if_unresolved: str
    due_note: str = Field("", description="What to print instead of a due time when there is none for a "
                          "reason other than the protocol's timescale (the case is resolved; no stage yet).")
    missing_facts: list[RecordedItem] = Field(
        default_factory=list,
        description="Facts the case still needs: label = what is missing, value = the line to type in a reply.",
    )


NOTICE_KINDS = (
    "stage3-notification", "stage4-account", "iro-notice", "conference-request", "imminent-risk", "outcome-letter",
    "stage-entry",
)


class NoticeView(Letter):
    """A notice a protocol requires on entry to a stage.

    ``kind`` picks the layout: Oldham's "Notification of Escalation progressing
    to stage 3", Gloucestershire's stage 4 full account of the dispute, the
    notice to the Independent Reviewing Officer, Haringey's request that children's
    social care convene a child protection conference (§6), Sandwell's imminent-risk
    MARF/MASH referral (§4 Note), an outcome to be confirmed in writing (``due`` is then
    the resolution's deadline), or a generic stage-entry notice.
    """

    kind: Literal[
        "stage3-notification", "stage4-account", "iro-notice", "conference-request", "imminent-risk", "outcome-letter",
        "stage-entry",
    ]
    title: str
    stage: int
    stage_name: str
    due: datetime | None = None
    basis: str
    next_action: str
    child: ChildDetails = ChildDetails()
    agencies: list[Party] = []
    summary: str = ""
    history: list[TimelineRow] = []
    actions: list[ActionRow] = []
    protocol_reference: str = Field("", description="The seed section or quotation requiring it.")


class ReminderView(Letter):
    """A reminder before a due time, or an alert once it has passed."""

    kind: Literal["reminder", "overdue"]
    as_of: datetime
    stage: int
    stage_name: str
    due: datetime | None = None
    basis: str
    next_action: str
    local_setting: bool = Field(
        False, description="True when the reminder comes from a local review setting, not the protocol."
    )
    deadline: str = Field(
        "", description="A deadline of the stage other than its own timescale (what is due), e.g. the meeting's date set."
    )
    resolved: datetime | None = Field(
        None, description="When the case was resolved, for a deadline counted from the resolution (an outcome letter)."
    )


class ResolutionNoticeView(Letter):
    """Oldham Appendix 2, pre-filled from the case; field names as PRODUCT §6."""

    notification_date: date | None = None
    child_name: str = ""
    child_dob: date | None = None
    child_identifier: str = ""
    raised_by_name: str = ""
    raised_by_agency: str = ""
    raised_by_role: str = ""
    raised_by_contact: str = ""
    discussion_summary: str = ""
    outcome_summary: str = ""
    actions: list[ActionRow] = []


class _ConcernAction(_View):
    action: str
    by_whom: str = ""
    date_completed: date | None = None


class EscalationConcernView(Letter):
    """Sandwell Appendix 3 (Multi-Agency Escalation of Safeguarding Concern Resolution
    template), pre-filled from the case; field names as PRODUCT §6."""

    child_name: str = ""
    child_dob: date | None = None
    child_address: str = ""
    raised_by_name: str = ""
    raised_by_email: str = ""
    raised_by_role_agency: str = ""
    other_professionals: str = ""
    current_level_of_need: str = ""
    perceived_level_of_need: str = ""
    disagreement_details: str = ""
    discussion_date: date | None = None
    methodology: str = ""
    resolved_at_level: str = ""
    resolved_date: date | None = None
    lessons_learned: str = ""
    actions: list[_ConcernAction] = []
    completed_by: str = ""
    completed_date: date | None = None


class StageRow(_View):
    """A stage the case entered, for the auditor's timeline chart."""

    stage: int
    name: str
    entered_at: datetime
    due: datetime | None = None
    left_at: datetime | None = None


class EventRow(_View):
    at: datetime
    kind: str
    description: str
    actor: str = ""


class MessageRow(_View):
    at: datetime
    direction: Literal["in", "out"]
    correspondent: str
    subject: str
    message_id: str = ""
    sha256: str
    text: str = ""  # what the message says (received mail: its body text, from the archived copy)


class SummaryRow(_View):
    """A stage summary on the record: its outcome, what it said and the actions agreed."""

    at: datetime
    stage: int | None = None
    outcome: str = ""
    summary: str = ""
    actions: list[str] = []
    source: str = ""


class DocumentRow(_View):
    at: datetime
    name: str
    media_type: str
    sha256: str


class DeadlineRow(_View):
    stage: int
    stage_name: str
    due: datetime | None = None
    basis: str
    met_at: datetime | None = None
    status: Literal["met", "met (estimated)", "missed", "open", "overdue", "no fixed timescale", "not recorded"]


class CaseRecordView(_View):
    """The auditor's record of one case: everything that happened, with hashes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_ref: str
    protocol_id: str
    protocol_name: str
    sender_agency: str
    opened_at: datetime
    generated_at: datetime
    status: str
    stage: int
    stage_name: str
    child: ChildDetails = ChildDetails()
    stages: list[StageRow] = []
    events: list[EventRow] = []
    messages: list[MessageRow] = []
    summaries: list[SummaryRow] = []
    documents: list[DocumentRow] = []
    deadlines: list[DeadlineRow] = []
    record_json: dict[str, Any] = Field(
        default_factory=dict, description="The case as JSON, embedded in the PDF/A-3 record."
    )
