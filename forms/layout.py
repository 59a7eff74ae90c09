"""What each template looks like: title, sections, labels as the seeds print them, tables.

One description per form kind drives both the blank templates (Word and PDF)
and the label matching of the readers, so a label printed on our template is
always one the readers know; ``display_value`` writes a value as every writer puts it in a
box (the Word and PDF templates, the typed-in email text). Labels are copied from the seeds: Oldham 2025
Appendix 2 (Resolution Notice), Sandwell Appendix 3 (Multi-Agency Escalation of
Safeguarding Concern) and Appendix 4 (Agency Escalation Summary Log).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from resdesk.forms.values import LEVELS_OF_NEED
from resdesk.protocols import AREAS

LEVEL_DISPLAY = {
    "universal": "Universal Services",
    "early-help": "Early Help",
    "child-in-need": "Child in Need (S17)",
    "child-protection": "Child Protection (S47)",
    "child-in-care": "Child in Care",
    "care-leaver": "Care Leaver",
}
LEVEL_CHOICES = tuple((level, LEVEL_DISPLAY[level]) for level in LEVELS_OF_NEED)
YES_NO_CHOICES = (("yes", "Yes"), ("no", "No"))
AREA_CHOICES = tuple(AREAS.items())  # the seeds' areas of disagreement (protocols.areas)
OUTCOME_CHOICES = (("resolved", "Resolved"), ("escalated", "Escalated"), ("actions-agreed", "Actions agreed"))


@dataclass(frozen=True)
class Field:
    """One value on a form: its record name, its printed label and how it is filled in.

    ``control`` is ``text`` (one line), ``rich`` (paragraphs), ``date``, ``yesno``,
    ``choice`` (a drop-down of ``choices``) or ``ticks`` (one tick box per choice,
    as Sandwell's level-of-need rows).
    """

    name: str
    label: str
    control: str = "text"
    aliases: tuple[str, ...] = ()
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Column:
    """A column of a repeating table; Sandwell's "Child Details" cell holds three fields."""

    header: str
    fields: tuple[Field, ...]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    heading: str | None
    fields: tuple[Field, ...]
    note: str | None = None


@dataclass(frozen=True)
class Table:
    """A repeating table (Agreed Actions, the summary log): header row, then any rows."""

    name: str
    intro: str | None
    columns: tuple[Column, ...]
    blank_rows: int = 4


@dataclass(frozen=True)
class Template:
    kind: str
    title: str
    subtitle: str | None
    blocks: tuple[Section | Table, ...]
    # Texts that identify this kind when found near the top of a document.
    title_words: tuple[str, ...] = ()
    # Labels that set a context for short labels later in the same row:
    # "Disagreement resolved at: | Level | 2 | Date | 1/5/25".
    contexts: dict[str, dict[str, str]] = field(default_factory=dict)
    # Labels whose value holds two fields (name and e-mail in one box).
    combined: dict[str, tuple[str, str]] = field(default_factory=dict)

    def fields(self) -> list[Field]:
        return [f for block in self.blocks if isinstance(block, Section) for f in block.fields]

    def tables(self) -> list[Table]:
        return [block for block in self.blocks if isinstance(block, Table)]

    def field(self, name: str) -> Field:
        for candidate in self.fields():
            if candidate.name == name:
                return candidate
        for table in self.tables():
            for column in table.columns:
                for candidate in column.fields:
                    if f"{table.name}.{candidate.name}" == name:
                        return candidate
        raise KeyError(name)


def _agreed_actions(intro: str | None) -> Table:
    return Table(
        "actions",
        intro,
        (
            Column("Agreed Actions", (Field("action", "Agreed Actions", "rich"),), ("action",)),
            Column(
                "Who is Accountable For this Action?",
                (Field("owner", "Who is Accountable For this Action?"),),
                ("owner", "who is accountable", "accountable"),
            ),
            Column(
                "Agreed timeline (Please be specific)",
                (Field("timeline", "Agreed timeline"),),
                ("timeline",),
            ),
            Column(
                "Action Completed? (Yes/No)",
                (Field("completed", "Action Completed?", "yesno", choices=YES_NO_CHOICES),),
                ("completed",),
            ),
        ),
    )


RESOLUTION_NOTICE = Template(
    kind="resolution-notice",
    title="Resolution Notice",
    subtitle="Oldham Safeguarding Children Partnership — Escalation and Resolution Protocol, Appendix 2",
    title_words=("resolution notice",),
    blocks=(
        Section(
            None,
            (
                Field("notification_date", "Date of Notification", "date"),
                Field("child_name", "Name of Child/Young Person", aliases=("child's name", "name of child")),
                Field("child_dob", "D.O.B", "date", aliases=("date of birth", "dob")),
                Field(
                    "child_identifier",
                    "Unique Identifier (NHS/PID Number)",
                    aliases=("unique identifier", "nhs number", "nhs/pid number"),
                ),
                Field(
                    "raised_by_name",
                    "Name of Professional Raising Resolution and Challenge Notice",
                    aliases=("name of professional",),
                ),
                Field("raised_by_agency", "Agency/Organisation", aliases=("agency", "organisation")),
                Field("raised_by_role", "Role"),
                Field("raised_by_contact", "Contact Details"),
            ),
        ),
        Section(
            "Resolution Stage 4 – Oldham Safeguarding Children Partnership (Virtual Panel)",
            (
                Field(
                    "discussion_summary",
                    "Summary of Discussion, previous actions agreed, progress to date and any "
                    "identified barriers/challenges to finding a resolution.",
                    "rich",
                    aliases=("summary of discussion",),
                ),
                Field("outcome_summary", "Summary of Outcome/Discussion", "rich", aliases=("summary of outcome",)),
            ),
            note="Please email the Resolution Notice to the partnership business unit.",
        ),
        _agreed_actions(None),
    ),
)

ESCALATION_CONCERN = Template(
    kind="escalation-concern",
    title="Multi-Agency Escalation of Safeguarding Concern Template – (required from stage 2)",
    subtitle="Sandwell Children's Safeguarding Partnership — Appendix 3, Resolution template",
    title_words=("escalation of safeguarding concern",),
    contexts={
        "disagreement resolved at": {"level": "resolved_at_level", "date": "resolved_date"},
        "form completed by": {"date": "completed_date"},
    },
    combined={
        "name of professional and email contact details of the person escalating a concern": (
            "raised_by_name",
            "raised_by_email",
        ),
    },
    blocks=(
        Section(
            None,
            (
                Field("child_name", "Name of child/young person:", aliases=("name of child",)),
                Field("child_dob", "D.O.B:", "date", aliases=("date of birth", "dob")),
                Field("child_address", "Address:"),
                Field(
                    "raised_by_name",
                    "Name of Professional escalating a concern:",
                    aliases=("name of professional", "name of the person escalating a concern"),
                ),
                Field(
                    "raised_by_email",
                    "Email contact details of the person escalating a concern:",
                    aliases=("email contact details", "email", "e-mail"),
                ),
                Field("raised_by_role_agency", "Role and Agency:"),
                Field(
                    "other_professionals",
                    "Name(s) of other professionals involved: (Including SCSP Members where "
                    "appropriate) Role and Agency:",
                    "rich",
                    aliases=("names of other professionals involved", "other professionals involved"),
                ),
                Field(
                    "current_level_of_need",
                    "Current level of need",
                    "ticks",
                    choices=LEVEL_CHOICES,
                ),
                Field(
                    "perceived_level_of_need",
                    "Please indicate perceived level of need:",
                    "ticks",
                    aliases=("perceived level of need",),
                    choices=LEVEL_CHOICES,
                ),
                Field(
                    "disagreement_details",
                    "Brief details of agency disagreement (including agreed outcomes)",
                    "rich",
                ),
                Field(
                    "discussion_date",
                    "Date of discussion/ Meeting re disagreement:",
                    "date",
                    aliases=("date of discussion", "date of discussion meeting"),
                ),
                Field("methodology", "Methodology used to resolve conflict:", "rich", aliases=("methodology",)),
                Field("resolved_at_level", "Disagreement resolved at: Level", aliases=("resolved at level",)),
                Field("resolved_date", "Disagreement resolved at: Date", "date", aliases=("resolved date",)),
                Field(
                    "lessons_learned",
                    "Please indicate lessons learned from this disagreement resolution (e.g. Individual "
                    "agency review of procedure, requirement for staff training, understanding of agency "
                    "referral criteria/thresholds of need);",
                    "rich",
                    aliases=("lessons learned",),
                ),
            ),
        ),
        Table(
            "actions",
            "Please identify any further actions taken by your agency following the resolution of this issue:",
            (
                Column("Actions taken:", (Field("action", "Actions taken:", "rich"),), ("action", "actions")),
                Column("By whom:", (Field("by_whom", "By whom:"),), ("by whom",)),
                Column("Date completed:", (Field("date_completed", "Date completed:", "date"),)),
            ),
        ),
        Section(
            None,
            (
                Field("completed_by", "Form completed by:"),
                Field("completed_date", "Date:", "date", aliases=("date form completed",)),
            ),
            note="Completed forms should be forwarded to the partnership business unit.",
        ),
    ),
)

SUMMARY_LOG = Template(
    kind="summary-log",
    title="AGENCY ESCALATION SUMMARY LOG",
    subtitle="(For completion by Line Manager/Safeguarding Lead as appropriate)",
    title_words=("escalation summary log",),
    blocks=(
        Section(None, (Field("agency", "Agency / School:", aliases=("agency / school: (insert)", "agency", "school")),)),
        Table(
            "entries",
            None,
            (
                Column("Escalation Number", (Field("escalation_number", "Escalation Number"),)),
                Column(
                    "Child Details:",
                    (
                        Field("child_name", "Name:"),
                        Field("child_dob", "DOB:", "date"),
                        Field("child_age", "Age:"),
                    ),
                    ("child details", "child details name dob age"),
                ),
                Column("Concern", (Field("concern", "Concern", "rich"),)),
                Column(
                    "Level of Need",
                    (Field("level_of_need", "Level of Need", "choice", choices=LEVEL_CHOICES),),
                ),
                Column(
                    "Summary of Professional Disagreement",
                    (Field("disagreement_summary", "Summary of Professional Disagreement", "rich"),),
                ),
                Column(
                    "Action taken towards reaching a Resolution",
                    (Field("action_taken", "Action taken towards reaching a Resolution", "rich"),),
                    ("action taken",),
                ),
                Column("Outcome of Resolution", (Field("outcome", "Outcome of Resolution", "rich"),), ("outcome",)),
            ),
            blank_rows=6,
        ),
    ),
)

STAGE_SUMMARY = Template(
    kind="stage-summary",
    title="Escalation & Resolution Protocol: Stage Summary",
    subtitle="Written confirmation of the outcome of a stage, for the partnership business unit",
    title_words=("stage summary",),
    blocks=(
        Section(
            None,
            (
                Field("case_ref", "Case reference", aliases=("case ref", "reference")),
                Field("protocol", "Protocol", aliases=("partnership",)),
                Field("stage", "Stage"),
                Field("meeting_date", "Date of discussion/meeting", "date", aliases=("meeting date", "date of meeting")),
                Field("attendees", "Attendees (name, role and agency)", "rich", aliases=("attendees",)),
                Field("summary", "Summary of discussion", "rich", aliases=("summary",)),
                Field(
                    "area_of_disagreement",
                    "Area of disagreement",
                    "choice",
                    aliases=("areas of disagreement", "type of disagreement"),
                    choices=AREA_CHOICES,
                ),
                Field(
                    "outcome",
                    "Outcome (Resolved / Escalated / Actions agreed)",
                    "choice",
                    aliases=("outcome",),
                    choices=OUTCOME_CHOICES,
                ),
            ),
        ),
        _agreed_actions("Agreed actions"),
    ),
)

TEMPLATES: dict[str, Template] = {
    t.kind: t for t in (RESOLUTION_NOTICE, ESCALATION_CONCERN, SUMMARY_LOG, STAGE_SUMMARY)
}


def display_value(field: Field, value: object) -> str:
    """How a record value is written into a form box (UK dates, Yes/No, level names)."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if field.choices:
        return dict(field.choices).get(str(value), str(value))
    return str(value)
