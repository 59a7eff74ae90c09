"""Real-looking views of an Oldham case, for the demo, the benchmarks and the tests.

Names and values are invented; the shapes and wording follow the Oldham 2025
protocol (seeds/oldham-2025.txt).
"""

from __future__ import annotations

from datetime import date, datetime

from .views import (
    AcknowledgementView,
    ActionRow,
    CaseRecordView,
    ChildDetails,
    DeadlineRow,
    DocumentRow,
    EventRow,
    MessageRow,
    NoticeView,
    Party,
    RecordedItem,
    ReminderView,
    ResolutionNoticeView,
    StageRow,
    TimelineRow,
)

__all__ = [
    "OLDHAM",
    "example_acknowledgement",
    "example_notice",
    "example_reminder",
    "example_resolution_notice",
    "example_case_record",
]

OLDHAM = "Oldham Safeguarding Children Partnership Escalation and Resolution Protocol (2025)"
_SENDER = "Oldham Safeguarding Children Partnership"
_BUSINESS_UNIT = Party(name="OSCP Business Unit", organisation=_SENDER, email="OSCP.group@oldham.gov.uk")
_PRACTITIONER = Party(
    name="Siobhán Ó Briain", role="Team Manager", organisation="Northern Care Alliance", email="s.obriain@nca.example"
)


def example_acknowledgement(**changes) -> AcknowledgementView:
    view = AcknowledgementView(
        case_ref="OLD-2026-0007",
        protocol_name=OLDHAM,
        sender_agency=_SENDER,
        recipient=_PRACTITIONER,
        issued_at=datetime(2026, 12, 23, 10, 0, 4),
        received_at=datetime(2026, 12, 23, 10, 0, 0),
        received_subject="RE: Escalation & Resolution Protocol: Stage 2 Summary",
        what_was_recorded="the stage 2 summary (outcome: escalated)",
        recorded=[
            RecordedItem(label="Meeting date", value="22 December 2026"),
            RecordedItem(label="Attendees", value="Siobhán Ó Briain (NCA); Zoë Adeyemi (Children's Social Care)"),
            RecordedItem(label="Outcome", value="Escalated to stage 3"),
        ],
        stage=2,
        stage_name="Service/Senior Managers",
        due=datetime(2026, 12, 29, 23, 59, 59),
        basis="2 working days",
        cumulative_due=datetime(2027, 1, 6, 23, 59, 59),
        next_action="Progress to stage 3 today and notify OSCP via OSCP.group@oldham.gov.uk.",
        if_unresolved="If the managers cannot agree, the escalation goes to stage 3 (Heads of Service) the same day.",
    )
    return view.model_copy(update=changes)


def example_notice(**changes) -> NoticeView:
    view = NoticeView(
        kind="stage3-notification",
        title="Notification of Escalation progressing to stage 3",
        case_ref="OLD-2026-0007",
        protocol_name=OLDHAM,
        sender_agency=_SENDER,
        recipient=_BUSINESS_UNIT,
        issued_at=datetime(2026, 12, 23, 10, 0, 5),
        stage=3,
        stage_name="Heads of Service / Assistant Directors",
        due=datetime(2026, 12, 29, 23, 59, 59),
        basis="2 working days",
        next_action="Heads of Service meet within 2 working days; if unresolved, escalate via the Resolution Notice.",
        child=ChildDetails(name="Zoë Adeyemi", dob=date(2015, 4, 3), identifier="943 476 5919"),
        agencies=[_PRACTITIONER, Party(name="Dev Patel", role="Service Manager", organisation="Oldham CSC")],
        summary="Disagreement about whether the threshold for a strategy discussion is met.",
        history=[
            TimelineRow(at=datetime(2026, 12, 18, 9, 30), stage=1, description="Practitioners discussed; no agreement."),
            TimelineRow(at=datetime(2026, 12, 22, 14, 0), stage=2, description="Managers met; escalated."),
        ],
        protocol_reference="Oldham 2025, section 1.6 and stage 2: 'OSCP should be notified of all stage 3 escalations'.",
    )
    return view.model_copy(update=changes)


def example_reminder(**changes) -> ReminderView:
    view = ReminderView(
        kind="reminder",
        case_ref="OLD-2026-0007",
        protocol_name=OLDHAM,
        sender_agency=_SENDER,
        recipient=_PRACTITIONER,
        issued_at=datetime(2026, 12, 29, 9, 0),
        as_of=datetime(2026, 12, 29, 9, 0),
        stage=3,
        stage_name="Heads of Service / Assistant Directors",
        due=datetime(2026, 12, 29, 23, 59, 59),
        basis="2 working days",
        next_action="Record the stage 3 outcome, or send the Resolution Notice to OSCP the same day.",
    )
    return view.model_copy(update=changes)


def example_resolution_notice(**changes) -> ResolutionNoticeView:
    view = ResolutionNoticeView(
        case_ref="OLD-2026-0007",
        protocol_name=OLDHAM,
        sender_agency=_SENDER,
        recipient=_BUSINESS_UNIT,
        issued_at=datetime(2026, 12, 30, 9, 0),
        notification_date=date(2026, 12, 30),
        child_name="Zoë Adeyemi",
        child_dob=date(2015, 4, 3),
        child_identifier="943 476 5919",
        raised_by_name="Siobhán Ó Briain",
        raised_by_agency="Northern Care Alliance",
        raised_by_role="Team Manager",
        raised_by_contact="s.obriain@nca.example",
        discussion_summary="Stages 1 to 3 held; agencies disagree about the threshold.",
        outcome_summary="Unresolved at stage 3; referred to the virtual panel.",
        actions=[ActionRow(action="Convene virtual panel", owner="OSCP", timeline="Within 4 working days", completed=False)],
    )
    return view.model_copy(update=changes)


def example_case_record(**changes) -> CaseRecordView:
    sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    stages = [
        StageRow(stage=1, name="Practitioners", entered_at=datetime(2026, 12, 16, 9), due=datetime(2026, 12, 18, 23, 59, 59), left_at=datetime(2026, 12, 18, 16)),
        StageRow(stage=2, name="Service/Senior Managers", entered_at=datetime(2026, 12, 18, 16), due=datetime(2026, 12, 22, 23, 59, 59), left_at=datetime(2026, 12, 23, 10)),
        StageRow(stage=3, name="Heads of Service", entered_at=datetime(2026, 12, 23, 10), due=datetime(2026, 12, 29, 23, 59, 59)),
    ]
    view = CaseRecordView(
        case_ref="OLD-2026-0007",
        protocol_id="oldham",
        protocol_name=OLDHAM,
        sender_agency=_SENDER,
        opened_at=datetime(2026, 12, 16, 9),
        generated_at=datetime(2026, 12, 30, 12),
        status="open (overdue)",
        stage=3,
        stage_name="Heads of Service",
        stages=stages,
        events=[
            EventRow(at=datetime(2026, 12, 16, 9), kind="opened", description="Case opened from stage 1 summary", actor="intake"),
            EventRow(at=datetime(2026, 12, 23, 10), kind="stage-entered", description="Stage 3 entered", actor="clock"),
        ],
        messages=[
            MessageRow(at=datetime(2026, 12, 16, 9), direction="in", correspondent="s.obriain@nca.example", subject="Escalation & Resolution Protocol: Stage 1 Summary", message_id="<a1@nca.example>", sha256=sha),
        ],
        documents=[DocumentRow(at=datetime(2026, 12, 16, 9, 0, 3), name="acknowledgement-1.pdf", media_type="application/pdf", sha256=sha)],
        deadlines=[
            DeadlineRow(stage=1, stage_name="Practitioners", due=datetime(2026, 12, 18, 23, 59, 59), basis="2 working days", met_at=datetime(2026, 12, 18, 16), status="met"),
            DeadlineRow(stage=2, stage_name="Service/Senior Managers", due=datetime(2026, 12, 22, 23, 59, 59), basis="2 working days", met_at=datetime(2026, 12, 23, 10), status="missed"),
            DeadlineRow(stage=3, stage_name="Heads of Service", due=datetime(2026, 12, 29, 23, 59, 59), basis="2 working days", status="overdue"),
        ],
        record_json={"case_ref": "OLD-2026-0007", "protocol": "oldham", "stage": 3, "child": "Zoë Adeyemi"},
    )
    return view.model_copy(update=changes)
