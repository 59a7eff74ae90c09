"""Blank -> filled -> read gives back what was filled, in Word and PDF; LibreOffice keeps it."""

from __future__ import annotations

import subprocess

import pytest

from resdesk.forms import KINDS, blank_docx, blank_pdf, fill_docx, fill_pdf, read_form
from make_samples import RECORDS
from resdesk.cli import main


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_filled_template_reads_back_unchanged(kind, fmt):
    """GIVEN a record of every kind WHEN written into our blank template and read back THEN it is unchanged."""
    record = RECORDS[kind]
    data = fill_docx(kind, record) if fmt == "docx" else fill_pdf(kind, record)
    result = read_form(data, f"filled.{fmt}")
    assert result.kind == kind
    assert result.record == record


@pytest.mark.parametrize("kind", KINDS)
def test_more_rows_than_the_blank_has_are_kept(kind):
    """GIVEN a record with more table rows than the blank template shows
    WHEN filled and read THEN every row comes back (the template grows)."""
    record = RECORDS[kind]
    table = "entries" if kind == "summary-log" else "actions"
    rows = list(getattr(record, table)) * 5
    bigger = record.model_copy(update={table: rows})
    for data in (fill_docx(kind, bigger), fill_pdf(kind, bigger)):
        assert len(getattr(read_form(data, "big").record, table)) == len(rows)


@pytest.mark.parametrize("kind", KINDS)
def test_blank_pdfs_pass_qpdf_check_and_name_fields_by_field(kind, tmp_path):
    """GIVEN a blank and a filled PDF of every kind THEN qpdf finds no errors and field names are ours."""
    from resdesk.forms import read_pdf_fields

    for name, data in (("blank.pdf", blank_pdf(kind)), ("filled.pdf", fill_pdf(kind, RECORDS[kind]))):
        path = tmp_path / name
        path.write_bytes(data)
        check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "No syntax or stream encoding errors" in check.stdout
    names = set(read_pdf_fields(blank_pdf(kind)))
    scalar = [n for n in type(RECORDS[kind]).model_fields if n not in ("kind", "actions", "entries")]
    for field in scalar:
        assert field in names or any(n.startswith(field + ".") for n in names), field


def test_blank_pdf_shows_the_seed_layout(tmp_path):
    """GIVEN the blank Resolution Notice PDF THEN its page text has the seed's title, labels and table headers."""
    path = tmp_path / "rn.pdf"
    path.write_bytes(blank_pdf("resolution-notice"))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout
    for words in ("Resolution Notice", "Name of Child/Young Person", "D.O.B",
                  "Unique Identifier (NHS/PID Number)", "Agreed Actions", "Action Completed? (Yes/No)"):
        assert words in text


def test_blank_docx_content_controls_are_tagged_with_field_names():
    """GIVEN a blank Word template THEN each field has a content control tagged with its name."""
    import io
    import zipfile

    xml = zipfile.ZipFile(io.BytesIO(blank_docx("escalation-concern"))).read("word/document.xml").decode()
    for tag in ("child_name", "raised_by_email", "discussion_date", "current_level_of_need.early-help",
                "actions.by_whom", "completed_date"):
        assert f'w:val="{tag}"' in xml, tag
    assert "w14:checkbox" in xml and "<w:date" in xml
    notice = zipfile.ZipFile(io.BytesIO(blank_docx("resolution-notice"))).read("word/document.xml").decode()
    assert 'w:val="actions.completed"' in notice and "w:dropDownList" in notice


def test_forms_blank_command_writes_templates(tmp_path):
    """GIVEN `resdesk forms blank KIND --format docx|pdf -o FILE` THEN the file is a template of that kind."""
    docx, pdf = tmp_path / "sl.docx", tmp_path / "sl.pdf"
    assert main(["forms", "blank", "summary-log", "--format", "docx", "-o", str(docx)]) == 0
    assert main(["forms", "blank", "summary-log", "--format", "pdf", "-o", str(pdf)]) == 0
    assert docx.read_bytes()[:2] == b"PK"
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_libreoffice_round_trip_keeps_every_record(tmp_path, soffice, samples):
    """GIVEN our filled Word form of every kind, and the seed-layout sample with its legacy fields
    WHEN LibreOffice converts each to ODT and back to DOCX (losing the content controls)
    THEN each still reads to the same record, by its labels."""
    originals, expected = [], []
    for kind in KINDS:
        ours = tmp_path / f"{kind}.docx"
        ours.write_bytes(fill_docx(kind, RECORDS[kind]))
        seed = tmp_path / f"{kind}-seed.docx"
        seed.write_bytes((samples / kind / "seed-table.docx").read_bytes())
        originals += [ours, seed]
        expected += [kind, kind]
    odts = soffice(originals, "odt", tmp_path / "odt")
    back = soffice(odts, "docx:MS Word 2007 XML", tmp_path / "back")
    for kind, path in zip(expected, back):
        result = read_form(path.read_bytes(), path.name)
        assert result.kind == kind
        assert result.record == RECORDS[kind], path.name


def test_libreoffice_opens_every_blank_template(tmp_path, soffice):
    """GIVEN the blank Word template of every kind WHEN LibreOffice renders it to PDF THEN the title is there."""
    from resdesk.forms.layout import TEMPLATES

    blanks = []
    for kind in KINDS:
        path = tmp_path / f"blank-{kind}.docx"
        path.write_bytes(blank_docx(kind))
        blanks.append(path)
    for kind, pdf in zip(KINDS, soffice(blanks, "pdf", tmp_path / "pdf")):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert TEMPLATES[kind].title.split(" – ")[0] in " ".join(text.split())


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_values_that_look_like_code_stay_plain_text(fmt):
    """GIVEN values that look like template code, XML or PDF syntax
    WHEN filled into a template and read back THEN they come back literally, never evaluated."""
    from resdesk.forms import StageSummary

    record = StageSummary(
        case_ref="{{ 7*7 }}",
        protocol="oldham",
        stage=1,
        outcome="resolved",
        attendees="{% for x in y %}x{% endfor %}\n<w:t>&amp;</w:t> ]]>",
        summary=r"(unbalanced \) paren) \\ /Name << >> endobj",
    )
    data = fill_docx("stage-summary", record) if fmt == "docx" else fill_pdf("stage-summary", record)
    assert read_form(data, f"code.{fmt}").record == record
