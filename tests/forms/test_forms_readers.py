"""How the readers cope with the ways agencies fill forms in."""

from __future__ import annotations

import io

import pytest
from docx import Document

from resdesk import forms
from resdesk.forms import grid, labels, read_email_text, read_form
from resdesk.forms.assemble import FieldProblem
from make_samples import RECORDS
from resdesk.errors import FormError


def _docx(rows: list[list[str]], title: str | None = None) -> bytes:
    document = Document()
    if title:
        document.add_paragraph(title)
    table = document.add_table(rows=0, cols=max(len(r) for r in rows))
    for values in rows:
        for cell, value in zip(table.add_row().cells, values):
            cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("label", ["D.O.B", "d.o.b:", "DOB", "  D. O. B.  ", "Date of birth"])
def test_labels_are_matched_tolerantly(label):
    """GIVEN a label typed with other case, punctuation or spacing THEN it names the same field."""
    assert labels.match_label("resolution-notice", label) == "child_dob"


def test_seed_layout_without_a_title_is_recognised_by_its_labels():
    """GIVEN a label/value table with no title WHEN read THEN the kind comes from which labels it fills."""
    data = _docx([["Name of child/young person:", "Kai"], ["Name of Professional and email contact details "
                  "of the person escalating a concern", "Dr A Bell a.bell@trust.example"],
                  ["Methodology used to resolve conflict:", "Meeting"]])
    result = read_form(data, "untitled.docx")
    assert result.kind == "escalation-concern"
    assert result.record.raised_by_name == "Dr A Bell"
    assert result.record.raised_by_email == "a.bell@trust.example"


def test_labels_and_values_as_paragraphs():
    """GIVEN a form typed as paragraphs, each value on the line below its label THEN it is read."""
    document = Document()
    for line in ["Stage Summary", "Case reference:", "RD-9", "Stage:", "3", "Outcome:", "Resolved",
                 "Summary of discussion:", "First line.", "Second line.", "", "Kind regards"]:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    record = read_form(buffer.getvalue(), "paragraphs.docx").record
    assert (record.case_ref, record.stage, record.outcome) == ("RD-9", 3, "resolved")
    assert record.summary == "First line.\nSecond line."


@pytest.mark.parametrize(
    "cells, expected",
    [
        (["☐ Universal Services", "☒ Early Help", "☐ Care Leaver"], "early-help"),
        (["Universal Services", "Child in Need (S17) X", "Care Leaver"], "child-in-need"),
        (["Universal Services", "", "Child Protection (S47)", "✓"], "child-protection"),
        (["Universal Services", "Early Help", "Legal status:", "Care Leaver"], None),
    ],
)
def test_tick_box_rows(cells, expected):
    """GIVEN a level-of-need row ticked with a box, an X or a tick in the next cell THEN the ticked level is read."""
    assert grid.read_ticks("current_level_of_need", cells) == expected


@pytest.mark.parametrize(
    "title", ["Escalation & Resolution Protocol: Stage 2 Summary", "Stage Two Summary", "STAGE SUMMARY"]
)
def test_stage_summary_titles(title):
    """GIVEN the protocols' subject-line wording of a stage summary as a title THEN the kind is a stage summary."""
    assert labels.kind_from_title([title]) == "stage-summary"


def test_ticks_inserted_as_wingdings_symbols():
    """GIVEN a level-of-need row where the person inserted a Wingdings tick before an option
    WHEN the Word file is read THEN that option is the level of need."""
    from docx.oxml import parse_xml

    data = _docx([["Name of child/young person:", "Kai"], ["Name of Professional escalating a concern:", "Bo"],
                  ["Current level of need", "Universal Services", "Early Help", "Care Leaver"]],
                 "Multi-Agency Escalation of Safeguarding Concern Template")
    document = Document(io.BytesIO(data))
    cell = document.tables[0].rows[2].cells[2]
    cell.paragraphs[0]._p.insert(1, parse_xml(
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        '<w:sym w:font="Wingdings" w:char="F0FC"/></w:r>'))
    buffer = io.BytesIO()
    document.save(buffer)
    assert read_form(buffer.getvalue(), "ec.docx").record.current_level_of_need == "early-help"


def test_two_ticks_are_an_error():
    with pytest.raises(FieldProblem, match="more than one level of need"):
        grid.read_ticks("current_level_of_need", ["☒ Early Help", "☒ Care Leaver"])


def test_agreed_actions_table_takes_any_number_of_rows():
    """GIVEN the Agreed Actions header row and twelve rows below it THEN twelve actions are read, blanks skipped."""
    rows = [["Name of Child/Young Person", "Amy"], ["Name of Professional Raising Resolution and Challenge Notice", "Bo"],
            ["Agreed Actions", "Who is Accountable For this Action?", "Agreed timeline (Please be specific)",
             "Action Completed? (Yes/No)"]]
    rows += [[f"Action {n}", "Owner", "Soon", "Yes" if n % 2 else "No"] for n in range(12)] + [["", "", "", ""]]
    result = read_form(_docx(rows, "Resolution Notice"), "rn.docx")
    assert [a.action for a in result.record.actions] == [f"Action {n}" for n in range(12)]
    assert [a.completed for a in result.record.actions] == [n % 2 == 1 for n in range(12)]


def test_type_is_decided_by_content_not_name(samples):
    """GIVEN a PDF form saved with a .docx name WHEN read THEN it is read as the PDF it is."""
    data = (samples / "stage-summary" / "ours.pdf").read_bytes()
    assert read_form(data, "summary.docx").record == RECORDS["stage-summary"]


def test_word_placeholders_are_not_values():
    """GIVEN our blank template with only the required boxes filled THEN the rest are empty, not placeholder text."""
    record = forms.StageSummary(stage=1, outcome="resolved")
    result = read_form(forms.fill_docx("stage-summary", record), "ss.docx")
    assert result.record == record


def test_email_without_a_form_is_none():
    """GIVEN an ordinary email that mentions a label once THEN it holds no form."""
    assert read_email_text("Hi, the child's D.O.B is in the attached notice.\nThanks") is None


def test_signature_lines_are_not_a_form():
    """GIVEN an email whose signature has "Role:" and "Agency/Organisation:" lines THEN it holds no form."""
    text = "Thanks for today.\n\nSam Smith\nRole: Team Manager\nAgency/Organisation: Oldham Council\n"
    assert read_email_text(text) is None


def test_email_quoted_lines_are_ignored(samples):
    """GIVEN a reply quoting an older form THEN only the new text is read."""
    text = (samples / "stage-summary" / "email.txt").read_text()
    quoted = text + "\n" + "\n".join("> " + line.replace("RD-2025-0042", "RD-OLD") for line in text.splitlines())
    assert read_email_text(quoted).record.case_ref == "RD-2025-0042"


def test_email_with_an_invalid_value_raises_naming_the_field():
    text = "Stage Summary\nStage: 2\nOutcome: resolved\nDate of discussion/meeting: 12/31/2025\n"
    with pytest.raises(FormError) as caught:
        read_email_text(text, source="message body")
    assert caught.value.field == "meeting_date" and caught.value.file == "message body"


def test_required_field_missing_is_named():
    """GIVEN a summary log with entries but no agency THEN the error names the agency field."""
    text = ("AGENCY ESCALATION SUMMARY LOG\nEscalation Number | Concern | Level of Need\n"
            "1 | Neglect | CIN\n2 | Abuse | CP\n3 | Neglect | EH\n4 | Abuse | CP\n")
    with pytest.raises(FormError) as caught:
        read_email_text(text)
    assert caught.value.field == "agency"


def test_bad_row_value_names_the_row():
    """GIVEN an Agreed Actions row whose Completed? is neither Yes nor No THEN the error names that row's field."""
    text = ("Resolution Notice\nName of Child/Young Person: A\nName of Professional: B\n"
            "Agreed Actions | Who is Accountable | Action Completed?\nCall | Me | Yes\nVisit | You | Partly\n")
    with pytest.raises(FormError) as caught:
        read_email_text(text)
    assert caught.value.field == "actions[2].completed"


def test_public_surface_is_true():
    """GIVEN forms.__all__ THEN every name it lists exists."""
    for name in forms.__all__:
        assert getattr(forms, name) is not None


def test_content_controls_titled_with_seed_labels_are_read():
    """GIVEN an agency's own Word template whose content controls carry the seed's labels as titles
    (tags are Word's defaults), one of them a date control
    WHEN read THEN each control's value lands in the field its title names."""
    from docx.oxml import parse_xml

    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'

    def control(title: str, body: str, extra: str = "") -> str:
        return (f'<w:sdt {ns}><w:sdtPr><w:alias w:val="{title}"/><w:tag w:val="Text{len(title)}"/>{extra}'
                f'</w:sdtPr><w:sdtContent><w:p><w:r><w:t>{body}</w:t></w:r></w:p></w:sdtContent></w:sdt>')

    document = Document()
    document.add_paragraph("Resolution Notice")
    body = document.element.body
    for xml in [
        control("Name of Child/Young Person", "Rae Quinn"),
        control("Name of Professional Raising Resolution and Challenge Notice", "Ola Ade"),
        control("D.O.B", "1 March 2012", '<w:date w:fullDate="2012-03-01T00:00:00Z"/>'),
        control("Unique Identifier (NHS/PID Number)", "PID 4471"),
    ]:
        body.insert(len(body) - 1, parse_xml(xml))
    buffer = io.BytesIO()
    document.save(buffer)
    record = read_form(buffer.getvalue(), "agency.docx").record
    assert (record.child_name, record.raised_by_name, str(record.child_dob), record.child_identifier) == (
        "Rae Quinn", "Ola Ade", "2012-03-01", "PID 4471")
