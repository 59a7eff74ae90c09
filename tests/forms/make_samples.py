"""Writes samples/forms/: one filled example of every form kind in every form it arrives in.

    python tests/forms/make_samples.py

For each kind, beside ``expected.json`` (written from the record, not from a reader):
``ours.docx`` (our blank Word template filled), ``seed-table.docx`` (the seed's plain
label/value tables typed into, with legacy form fields and tick marks as agencies
use them), ``ours.pdf`` (our PDF form filled) and ``email.txt`` (labels typed into
an email body, with dates and choices written the way people write them).
"""

from __future__ import annotations

import io
import json
import sys
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from docx import Document  # noqa: E402
from docx.oxml import parse_xml  # noqa: E402

from resdesk.forms import (  # noqa: E402
    EscalationConcern,
    ResolutionNotice,
    StageSummary,
    SummaryLog,
    fill_docx,
    fill_pdf,
)

SAMPLES = ROOT / "samples" / "forms"
W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'

RECORDS = {
    "resolution-notice": ResolutionNotice(
        notification_date=date(2025, 3, 14),
        child_name="Amelia Hart",
        child_dob=date(2014, 7, 9),
        child_identifier="9434765919",
        raised_by_name="Priya Natarajan",
        raised_by_agency="Northmoor Primary School",
        raised_by_role="Designated Safeguarding Lead",
        raised_by_contact="p.natarajan@northmoor.sch.example, 0161 496 0123",
        discussion_summary="Stage 3 meeting held with heads of service on 12/03/2025.\n"
        "School and children's social care still disagree on whether a strategy discussion is needed.",
        outcome_summary="Not resolved; referred to the partnership's virtual panel.",
        actions=[
            {"action": "Convene virtual panel", "owner": "OSCP business unit", "timeline": "Within 4 working days", "completed": True},
            {"action": "Share attendance records", "owner": "Northmoor Primary School", "timeline": "By 18/03/2025", "completed": False},
            {"action": "Review strategy threshold", "owner": "Children's social care", "timeline": "Before the panel"},
        ],
    ),
    "escalation-concern": EscalationConcern(
        child_name="Kai Robinson",
        child_dob=date(2011, 11, 30),
        child_address="14 Canal Street, Oldbury",
        raised_by_name="Dr Helen Osei",
        raised_by_email="helen.osei@healthtrust.example",
        raised_by_role_agency="Named Nurse, Community Health Trust",
        other_professionals="Mark Lee, Team Manager, Children's Social Care",
        current_level_of_need="early-help",
        perceived_level_of_need="child-in-need",
        disagreement_details="Health believe the threshold for a child in need assessment is met.\n"
        "Agreed outcome: assessment to be opened.",
        discussion_date=date(2025, 2, 3),
        methodology="Professionals meeting chaired by the team manager",
        resolved_at_level=2,
        resolved_date=date(2025, 2, 10),
        lessons_learned="Shared understanding of the thresholds document needed across both teams.",
        actions=[
            {"action": "Threshold briefing for health visitors", "by_whom": "Named Nurse", "date_completed": date(2025, 3, 1)},
            {"action": "Assessment opened", "by_whom": "Mark Lee"},
        ],
        completed_by="Helen Osei",
        completed_date=date(2025, 2, 12),
    ),
    "summary-log": SummaryLog(
        agency="Westfield Academy",
        entries=[
            {
                "escalation_number": "WA-07",
                "child_name": "Leo Grant",
                "child_dob": date(2013, 2, 1),
                "child_age": 12,
                "concern": "Neglect: repeated absence and hunger",
                "level_of_need": "early-help",
                "disagreement_summary": "Referral not accepted by the front door",
                "action_taken": "Escalated to team manager",
                "outcome": "Resolved at stage 2; assessment opened",
            },
            {
                "escalation_number": "WA-08",
                "child_name": "Maya Singh",
                "child_dob": date(2016, 9, 23),
                "child_age": 8,
                "concern": "Disclosure of domestic abuse at home",
                "level_of_need": "child-protection",
                "disagreement_summary": "Disagreement about the need for a strategy discussion",
                "action_taken": "Stage 3 meeting with heads of service",
                "outcome": "Strategy discussion held",
            },
        ],
    ),
    "stage-summary": StageSummary(
        case_ref="RD-2025-0042",
        protocol="oldham",
        stage=2,
        meeting_date=date(2025, 5, 6),
        attendees="Sam Patel, Team Manager, Children's Social Care\nJo Evans, Safeguarding Lead, Oldham Police",
        summary="Line managers met by telephone; agencies still disagree about the plan.",
        area_of_disagreement="plans",
        outcome="escalated",
        actions=[
            {"action": "Notify heads of service", "owner": "Sam Patel", "timeline": "Today", "completed": True},
        ],
    ),
}


def _legacy_text(name: str, value: str) -> str:
    return (
        f'<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="{name}"/><w:enabled/>'
        '<w:calcOnExit w:val="0"/><w:textInput/></w:ffData></w:fldChar></w:r>'
        '<w:r><w:instrText xml:space="preserve"> FORMTEXT </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        f'<w:r><w:t xml:space="preserve">{escape(value)}</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )


def _legacy_checkbox(name: str, checked: bool) -> str:
    state = "<w:checked/>" if checked else ""
    return (
        f'<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="{name}"/><w:enabled/>'
        f'<w:calcOnExit w:val="0"/><w:checkBox><w:sizeAuto/><w:default w:val="0"/>{state}'
        "</w:checkBox></w:ffData></w:fldChar></w:r>"
        '<w:r><w:instrText xml:space="preserve"> FORMCHECKBOX </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )


def _legacy_dropdown(name: str, entries: list[str], chosen: int) -> str:
    items = "".join(f'<w:listEntry w:val="{escape(e)}"/>' for e in entries)
    return (
        f'<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="{name}"/><w:enabled/>'
        f'<w:calcOnExit w:val="0"/><w:ddList><w:result w:val="{chosen}"/>{items}</w:ddList>'
        "</w:ffData></w:fldChar></w:r>"
        '<w:r><w:instrText xml:space="preserve"> FORMDROPDOWN </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )


def _set_runs(cell, runs_xml: str, before: str = "") -> None:
    cell.text = before
    paragraph = cell.paragraphs[0]._p
    for run in parse_xml(f"<w:p {W_NS}>{runs_xml}</w:p>"):
        paragraph.append(run)


def _rows(table, rows: list[list[str]]) -> None:
    for values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, values):
            cell.text = value


def _save(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def seed_resolution_notice() -> bytes:
    """Oldham Appendix 2 as printed: one table, label | value, then Agreed Actions."""
    document = Document()
    document.add_paragraph("7 Appendix 2 – Resolution Notice")
    table = document.add_table(rows=0, cols=4)
    table.style = "Table Grid"

    def label_row(label: str, value: str = "", legacy: str | None = None) -> None:
        cells = table.add_row().cells
        cells[0].text = label
        merged = cells[1].merge(cells[3])
        if legacy:
            _set_runs(merged, _legacy_text(legacy, value))
        else:
            merged.text = value

    heading = table.add_row().cells
    heading[0].merge(heading[3]).text = "Resolution Notice"
    label_row("Date of Notification", "14/03/2025")
    label_row("Name of Child/Young Person", "Amelia Hart", legacy="ChildName")
    label_row("D.O.B", "9 July 2014")
    label_row("Unique Identifier (NHS/PID Number)", "943 476 5919")
    label_row("Name of Professional Raising Resolution and Challenge Notice", "Priya Natarajan", legacy="Text4")
    label_row("Agency/Organisation", "Northmoor Primary School")
    label_row("Role", "Designated Safeguarding Lead")
    label_row("Contact Details", "p.natarajan@northmoor.sch.example, 0161 496 0123")
    banner = table.add_row().cells
    banner[0].merge(banner[3]).text = (
        "Resolution Stage 4 – Oldham Safeguarding Children Partnership (Virtual Panel) Please email "
        "Resolution Notice to: OSCP.group@oldham.gov.uk"
    )
    label_row(
        "Summary of Discussion, previous actions agreed, progress to date and any identified "
        "barriers/challenges to finding a resolution.",
        "Stage 3 meeting held with heads of service on 12/03/2025.\nSchool and children's social care "
        "still disagree on whether a strategy discussion is needed.",
    )
    label_row("Summary of Outcome/Discussion", "Not resolved; referred to the partnership's virtual panel.")
    _rows(
        table,
        [
            ["Agreed Actions", "Who is Accountable For this Action?", "Agreed timeline (Please be specific)",
             "Action Completed? (Yes/No)"],
            ["Convene virtual panel", "OSCP business unit", "Within 4 working days", ""],
            ["Share attendance records", "Northmoor Primary School", "By 18/03/2025", "No"],
            ["Review strategy threshold", "Children's social care", "Before the panel", ""],
            ["", "", "", ""],
        ],
    )
    # The first action's "Completed?" is a legacy drop-down set to Yes.
    _set_runs(table.rows[-4].cells[3], _legacy_dropdown("Dropdown1", [" ", "Yes", "No"], 1))
    return _save(document)


def seed_escalation_concern() -> bytes:
    """Sandwell Appendix 3 as printed, with tick marks and legacy tick boxes for levels of need."""
    document = Document()
    document.add_paragraph("Appendix 3 Multi-Agency Escalation of Safeguarding Concern Resolution template")
    document.add_paragraph("Multi-Agency Escalation of Safeguarding Concern Template – (required from stage 2)")
    top = document.add_table(rows=0, cols=2)
    top.style = "Table Grid"
    _rows(
        top,
        [
            ["Name of child/young person:", "Kai Robinson"],
            ["D.O.B:", "30.11.11"],
            ["Address:", "14 Canal Street, Oldbury"],
            ["Name of Professional and email contact details of the person escalating a concern",
             "Dr Helen Osei helen.osei@healthtrust.example"],
            ["Role and Agency:", "Named Nurse, Community Health Trust"],
            ["Name(s) of other professionals involved: (Including SCSP Members where appropriate) "
             "Role and Agency:", "Mark Lee, Team Manager, Children's Social Care"],
        ],
    )
    levels = document.add_table(rows=0, cols=9)
    levels.style = "Table Grid"
    options = ["Universal Services", "Early Help", "Child in Need (S17)", "Child Protection (S47)",
               "Child in Care", "Legal status:", "Care Leaver"]
    current = levels.add_row().cells
    current[0].text = "Current level of need"
    for cell, option in zip(current[1:], options):
        cell.text = ("☒ " if option == "Early Help" else "☐ ") + option if option != "Legal status:" else option
    perceived = levels.add_row().cells
    perceived[0].text = "Please indicate perceived level of need:"
    for number, (cell, option) in enumerate(zip(perceived[1:], options)):
        if option == "Legal status:":
            cell.text = option
        else:
            _set_runs(cell, _legacy_checkbox(f"Check{number}", option == "Child in Need (S17)") +
                      f'<w:r><w:t xml:space="preserve"> {escape(option)}</w:t></w:r>')
    rest = document.add_table(rows=0, cols=5)
    rest.style = "Table Grid"
    for label, value in [
        ("Brief details of agency disagreement (including agreed outcomes)",
         "Health believe the threshold for a child in need assessment is met.\nAgreed outcome: assessment to be opened."),
        ("Date of discussion/ Meeting re disagreement:", "3 February 2025"),
        ("Methodology used to resolve conflict:", "Professionals meeting chaired by the team manager"),
    ]:
        cells = rest.add_row().cells
        cells[0].text = label
        cells[1].merge(cells[4]).text = value
    _rows(rest, [["Disagreement resolved at:", "Level", "Level 2", "Date", "10/02/2025"]])
    cells = rest.add_row().cells
    cells[0].text = (
        "Please indicate lessons learned from this disagreement resolution (e.g. Individual agency review "
        "of procedure, requirement for staff training, understanding of agency referral criteria/thresholds of need);"
    )
    cells[1].merge(cells[4]).text = "Shared understanding of the thresholds document needed across both teams."
    document.add_paragraph(
        "Please identify any further actions taken by your agency following the resolution of this issue:"
    )
    actions = document.add_table(rows=0, cols=3)
    actions.style = "Table Grid"
    _rows(
        actions,
        [
            ["Actions taken:", "By whom:", "Date completed:"],
            ["Threshold briefing for health visitors", "Named Nurse", "01/03/2025"],
            ["Assessment opened", "Mark Lee", ""],
            ["", "", ""],
        ],
    )
    sign = document.add_table(rows=0, cols=4)
    sign.style = "Table Grid"
    _rows(sign, [["Form completed by:", "Helen Osei", "Date:", "12/02/2025"]])
    manager = document.add_table(rows=0, cols=3)
    manager.style = "Table Grid"
    _rows(
        manager,
        [
            ["To be completed by SCSP Business Manager:", "", ""],
            ["Date received by SCSP Business Manager:", "", ""],
            ["Concerned referred to SCSP Chair for immediate action", "YES/ REASON:", "NO/REASON:"],
            ["Issues referred to SCSP/ Outcome:", "", ""],
        ],
    )
    document.add_paragraph("Completed forms should be forwarded to the SCSP Business Unit: SCSP_Business@sandwell.gov.uk")
    return _save(document)


def seed_summary_log() -> bytes:
    """Sandwell Appendix 4 as printed: agency line, then the log table with "Child Details" cells."""
    document = Document()
    document.add_paragraph("Appendix 4 Agency escalation Summary Log")
    document.add_paragraph("AGENCY ESCALATION SUMMARY LOG")
    document.add_paragraph("(For completion by Line Manager/Safeguarding Lead as appropriate)")
    document.add_paragraph("Agency / School: (INSERT): Westfield Academy")
    document.add_paragraph("_" * 60)
    table = document.add_table(rows=0, cols=7)
    table.style = "Table Grid"
    _rows(
        table,
        [
            ["** Escalation Number", "Child Details:\nName:\nDOB:\nAge:", "Concern", "Level of Need",
             "Summary of Professional Disagreement", "Action taken towards reaching a Resolution",
             "Outcome of Resolution"],
            ["WA-07", "Name: Leo Grant\nDOB: 01/02/2013\nAge: 12", "Neglect: repeated absence and hunger",
             "Early Help", "Referral not accepted by the front door", "Escalated to team manager",
             "Resolved at stage 2; assessment opened"],
            ["WA-08", "Name: Maya Singh\nDOB: 23/09/2016\nAge: 8 years", "Disclosure of domestic abuse at home",
             "CP", "Disagreement about the need for a strategy discussion",
             "Stage 3 meeting with heads of service", "Strategy discussion held"],
            ["", "", "", "", "", "", ""],
            ["", "", "", "", "", "", ""],
        ],
    )
    return _save(document)


def seed_stage_summary() -> bytes:
    """Our stage summary's labels in a plain table, as an agency would retype them."""
    document = Document()
    document.add_paragraph("Escalation & Resolution Protocol: Stage 2 Summary")
    table = document.add_table(rows=0, cols=4)
    table.style = "Table Grid"
    for label, value in [
        ("Case reference", "RD-2025-0042"),
        ("Protocol", "Oldham"),
        ("Stage", "Stage 2"),
        ("Date of discussion/meeting", "6/5/25"),
        ("Attendees", "Sam Patel, Team Manager, Children's Social Care\nJo Evans, Safeguarding Lead, Oldham Police"),
        ("Summary of discussion", "Line managers met by telephone; agencies still disagree about the plan."),
        ("Area of disagreement", "Plans"),
        ("Outcome", "Escalated"),
    ]:
        cells = table.add_row().cells
        cells[0].text = label
        cells[1].merge(cells[3]).text = value
    _rows(
        table,
        [
            ["Agreed Actions", "Who is Accountable For this Action?", "Agreed timeline", "Action Completed? (Yes/No)"],
            ["Notify heads of service", "Sam Patel", "Today", "Yes"],
        ],
    )
    return _save(document)


EMAILS = {
    "resolution-notice": """Hello,

Please find the Resolution Notice for Amelia below.

Resolution Notice
Date of Notification: 14 March 2025
Name of Child/Young Person: Amelia Hart
D.O.B: 09/07/2014
Unique Identifier (NHS/PID Number): 943-476-5919
Name of Professional Raising Resolution and Challenge Notice: Priya Natarajan
Agency/Organisation: Northmoor Primary School
Role: Designated Safeguarding Lead
Contact Details: p.natarajan@northmoor.sch.example, 0161 496 0123
Summary of Discussion: Stage 3 meeting held with heads of service on 12/03/2025.
School and children's social care still disagree on whether a strategy discussion is needed.
Summary of Outcome/Discussion: Not resolved; referred to the partnership's virtual panel.

Agreed Actions | Who is Accountable For this Action? | Agreed timeline | Action Completed? (Yes/No)
Convene virtual panel | OSCP business unit | Within 4 working days | Yes
Share attendance records | Northmoor Primary School | By 18/03/2025 | No
Review strategy threshold | Children's social care | Before the panel |

Kind regards,
Priya
--
Priya Natarajan, Designated Safeguarding Lead
""",
    "escalation-concern": """Multi-Agency Escalation of Safeguarding Concern Template

Name of child/young person: Kai Robinson
D.O.B: 30 November 2011
Address: 14 Canal Street, Oldbury
Name of Professional escalating a concern: Dr Helen Osei
Email contact details: helen.osei@healthtrust.example
Role and Agency: Named Nurse, Community Health Trust
Name(s) of other professionals involved: Mark Lee, Team Manager, Children's Social Care
Current level of need: Early Help
Perceived level of need: Child in Need (S17)
Brief details of agency disagreement (including agreed outcomes): Health believe the threshold for a child in need assessment is met.
Agreed outcome: assessment to be opened.
Date of discussion/ Meeting re disagreement: 3.2.25
Methodology used to resolve conflict: Professionals meeting chaired by the team manager
Disagreement resolved at level: 2
Disagreement resolved at date: 10/02/2025
Lessons learned: Shared understanding of the thresholds document needed across both teams.
Actions taken: | By whom: | Date completed:
Threshold briefing for health visitors | Named Nurse | 1 March 2025
Assessment opened | Mark Lee |
Form completed by: Helen Osei
Date: 12/02/2025
""",
    "summary-log": """AGENCY ESCALATION SUMMARY LOG
Agency / School: Westfield Academy

Escalation Number | Child's name | DOB | Age | Concern | Level of Need | Summary of Professional Disagreement | Action taken | Outcome of Resolution
WA-07 | Leo Grant | 01/02/2013 | 12 | Neglect: repeated absence and hunger | Early Help | Referral not accepted by the front door | Escalated to team manager | Resolved at stage 2; assessment opened
WA-08 | Maya Singh | 23/09/2016 | 8 | Disclosure of domestic abuse at home | Child Protection (S47) | Disagreement about the need for a strategy discussion | Stage 3 meeting with heads of service | Strategy discussion held
""",
    "stage-summary": """Escalation & Resolution Protocol: Stage 2 Summary

Case reference: RD-2025-0042
Protocol: Oldham
Stage: 2
Date of discussion/meeting: 06/05/2025
Attendees: Sam Patel, Team Manager, Children's Social Care
Jo Evans, Safeguarding Lead, Oldham Police
Summary of discussion: Line managers met by telephone; agencies still disagree about the plan.
Area of disagreement: Plans
Outcome: Escalated

Agreed Actions | Who is Accountable For this Action? | Agreed timeline | Action Completed? (Yes/No)
Notify heads of service | Sam Patel | Today | Yes
""",
}

SEED_TABLES = {
    "resolution-notice": seed_resolution_notice,
    "escalation-concern": seed_escalation_concern,
    "summary-log": seed_summary_log,
    "stage-summary": seed_stage_summary,
}


def main() -> None:
    for kind, record in RECORDS.items():
        folder = SAMPLES / kind
        folder.mkdir(parents=True, exist_ok=True)
        expected = {"kind": kind, "fields": record.model_dump(mode="json")}
        (folder / "expected.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")
        (folder / "ours.docx").write_bytes(fill_docx(kind, record))
        (folder / "ours.pdf").write_bytes(fill_pdf(kind, record))
        (folder / "seed-table.docx").write_bytes(SEED_TABLES[kind]())
        (folder / "email.txt").write_text(EMAILS[kind])
    print(f"wrote {SAMPLES}")


if __name__ == "__main__":
    main()
