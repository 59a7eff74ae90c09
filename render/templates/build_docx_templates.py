"""Build the Word templates for docxtpl: ``python -m render.templates.build_docx_templates``.

The .docx files are committed; this script is how they were made, so a change
to a layout is a reviewable change to this file followed by a rebuild. Field
names follow PRODUCT §6; labels follow the seeds (Oldham Appendix 2).
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

HERE = Path(__file__).parent


def _new_document(title: str):
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    normal = document.styles["Normal"]
    normal.font.name = "DejaVu Sans"
    normal.font.size = Pt(10)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-GB")
    normal.element.get_or_add_rPr().append(lang)
    document.core_properties.title = title
    document.core_properties.language = "en-GB"
    document.core_properties.author = "Resolution Desk"
    return document


def _label_value_table(document, rows: list[tuple[str, str]]):
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].width, cells[1].width = Mm(70), Mm(100)
        cells[0].paragraphs[0].add_run(label).bold = True
        cells[1].paragraphs[0].add_run(value)
    return table


def _actions_table(document, headers: list[str], cells: list[str], loop: str):
    """A header row, then one row repeated by docxtpl's ``{%tr for %}``."""
    table = document.add_table(rows=3, cols=len(headers))
    table.style = "Table Grid"
    for cell, header in zip(table.rows[0].cells, headers):
        cell.paragraphs[0].add_run(header).bold = True
    table.rows[1].cells[0].paragraphs[0].add_run(f"{{%tr for row in {loop} %}}")
    for cell, text in zip(table.rows[2].cells, cells):
        cell.paragraphs[0].add_run(text)
    extra = table.add_row()
    extra.cells[0].paragraphs[0].add_run("{%tr endfor %}")
    return table


def build_resolution_notice(path: Path) -> None:
    """Oldham Appendix 2 – Resolution Notice, as the seed lays it out."""
    document = _new_document("Resolution Notice")
    document.add_heading("Resolution Notice", level=1)
    document.add_paragraph("Case reference: {{ case_ref }}")
    _label_value_table(
        document,
        [
            ("Date of Notification", "{{ notification_date | day }}"),
            ("Name of Child/Young Person", "{{ child_name }}"),
            ("D.O.B", "{{ child_dob | day }}"),
            ("Unique Identifier (NHS/PID Number)", "{{ child_identifier }}"),
            ("Name of Professional Raising Resolution and Challenge Notice", "{{ raised_by_name }}"),
            ("Agency/Organisation", "{{ raised_by_agency }}"),
            ("Role", "{{ raised_by_role }}"),
            ("Contact Details", "{{ raised_by_contact }}"),
        ],
    )
    document.add_heading(
        "Resolution Stage 4 – {{ sender_agency }} (Virtual Panel)", level=2
    )
    document.add_paragraph("Please email Resolution Notice to: {{ recipient.email }}")
    _label_value_table(
        document,
        [
            (
                "Summary of Discussion, previous actions agreed, progress to date and any "
                "identified barriers/challenges to finding a resolution.",
                "{{ discussion_summary | lines }}",
            ),
            ("Summary of Outcome/Discussion", "{{ outcome_summary | lines }}"),
        ],
    )
    document.add_paragraph()
    _actions_table(
        document,
        [
            "Agreed Actions",
            "Who is Accountable For this Action?",
            "Agreed timeline (Please be specific)",
            "Action Completed? (Yes/No)",
        ],
        ["{{ row.action }}", "{{ row.owner }}", "{{ row.timeline }}", "{{ row.completed | yesno }}"],
        "actions",
    )
    document.add_paragraph(
        "Please delete then right click, insert, insert row below, if further rows are required."
    )
    document.save(path)


def build_notice_letter(path: Path) -> None:
    """An editable copy of any stage-entry notice (NoticeView)."""
    document = _new_document("Notice")
    document.add_paragraph("{{ sender_agency }}").runs[0].bold = True
    document.add_paragraph("{{ protocol_name }}")
    document.add_paragraph("{{ recipient.name }}\t\tCase reference: {{ case_ref }}")
    document.add_paragraph("Date: {{ issued_at | day }}")
    document.add_heading("{{ title }}", level=1)
    document.add_paragraph("Dear {{ recipient.name }},")
    _label_value_table(
        document,
        [
            ("Case reference", "{{ case_ref }}"),
            ("Stage", "Stage {{ stage }}: {{ stage_name }}"),
            ("Timescale", "{{ basis }}"),
            ("Due", "{{ due | when }}"),
            ("Child or young person", "{{ child.name }}"),
            ("Date of birth", "{{ child.dob | day }}"),
            ("Unique identifier", "{{ child.identifier }}"),
        ],
    )
    document.add_heading("Summary of the disagreement", level=2)
    document.add_paragraph("{{ summary | lines }}")
    document.add_heading("History of the dispute and resolution attempts", level=2)
    _actions_table(
        document,
        ["When", "Stage", "What happened"],
        ["{{ row.at | short }}", "{{ row.stage if row.stage is not none else '' }}", "{{ row.description }}"],
        "history",
    )
    document.add_heading("What happens next", level=2)
    document.add_paragraph("{{ next_action }}")
    document.add_paragraph("{{ sender_agency }}")
    document.save(path)


def main() -> None:
    build_resolution_notice(HERE / "resolution_notice.docx")
    build_notice_letter(HERE / "notice_letter.docx")


if __name__ == "__main__":
    main()
