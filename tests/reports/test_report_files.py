"""The returns as files: CSV and XLSX read back, the PDF's text and structure, Word opened by LibreOffice,
and ``resdesk report`` writing each from the case file."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from docx import Document
from openpyxl import load_workbook

from resdesk.cases import open_store
from resdesk.cli import main
from resdesk.reports import SANDWELL_LOG_COLUMNS, build_report, parse_period, write_report
from tests.render.tools import libreoffice_text, pdf_text, qpdf_check
from tests.reports.scenario import REGISTRY, build_case_file

NOW = datetime(2027, 1, 15, 12, 0, tzinfo=timezone.utc)
Q4 = parse_period("2026Q4")


@pytest.fixture(scope="module")
def casefile(tmp_path_factory):
    root = tmp_path_factory.mktemp("report-files")
    url = f"sqlite:///{root / 'resdesk.sqlite3'}"
    store = open_store(url, root / "archive")
    refs = build_case_file(store, root)
    yield store, refs, root
    store.close()


def _build(casefile, kind: str):
    return build_report(kind, casefile[0], Q4, REGISTRY, NOW)


def test_activity_csv_and_xlsx_read_back_the_same_rows(casefile):
    """GIVEN the Q4 activity report WHEN written as CSV and as XLSX and read back THEN both hold the
    headings and the eight cases opened, the same values in each."""
    _, refs, _ = casefile
    report = _build(casefile, "activity")
    lines = list(csv.reader(io.StringIO(write_report(report, "csv").decode("utf-8-sig"))))
    assert lines[0][:10] == ["ref", "protocol", "opened", "highest_stage", "status", "resolved",
                             "area_of_disagreement", "raising_agency", "responding_agency", "stages_missed"]
    assert len(lines) == 1 + 8
    by_ref = {line[0]: dict(zip(lines[0], line)) for line in lines[1:]}
    assert by_ref[refs["O2"]]["highest_stage"] == "4" and by_ref[refs["O2"]]["stages_missed"] == "1"
    assert by_ref[refs["O4"]]["area_of_disagreement"] == "drift-and-delay"
    sheet = load_workbook(io.BytesIO(write_report(report, "xlsx"))).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == lines[0]
    assert [[("" if v is None else str(v)) for v in row] for row in values[1:]] == lines[1:]


def test_themes_exports_have_one_row_per_area_with_its_count(casefile):
    """GIVEN the Gloucestershire and Oldham Q4 returns WHEN written as CSV THEN one row per area with its count."""
    glos = list(csv.reader(io.StringIO(write_report(_build(casefile, "gloucestershire-strategic-log"), "csv")
                                       .decode("utf-8-sig"))))
    assert [row[:3] for row in glos] == [["area_of_disagreement", "count", "recurring"],
                                         ["plans", "2", "yes"], ["information-sharing", "1", "no"]]
    oldham = list(csv.reader(io.StringIO(write_report(_build(casefile, "oldham-themes"), "csv").decode("utf-8-sig"))))
    assert sorted(row[:2] for row in oldham[1:]) == [["drift-and-delay", "1"], ["thresholds", "1"]]


def test_sandwell_log_xlsx_has_the_seeds_headings(casefile):
    """GIVEN Sandwell's Q4 log WHEN written as XLSX THEN its first row is Appendix 4's headings and the
    child's details keep their three lines."""
    _, refs, _ = casefile
    sheet = load_workbook(io.BytesIO(write_report(_build(casefile, "sandwell-summary-log"), "xlsx"))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == SANDWELL_LOG_COLUMNS
    assert rows[1][0] == refs["S1"] and rows[1][1] == "Name: Amira Okafor\nDOB: 09/03/2014\nAge: 12"


def test_pdf_carries_the_figures_and_charts_and_passes_qpdf(casefile, tmp_path):
    """GIVEN the Q4 activity report WHEN rendered as PDF THEN qpdf finds no error, its text has the period
    and the figures, and each chart is drawn (vector paths, no image to fetch)."""
    pdf = write_report(_build(casefile, "activity"), "pdf", "Test Partnership")
    qpdf_check(pdf, tmp_path)
    text = pdf_text(pdf, tmp_path)
    assert "Escalation activity" in text and "Period: 2026Q4 (1 October 2026 to 31 December 2026)" in text
    assert "Cases opened 8" in text and "Stages missed 5" in text and "Share of stages overdue 42%" in text
    assert "Cases opened and resolved, week by week" in text
    assert "Provision of services 1" in text
    assert b"/Subtype /Image" not in pdf


def test_sandwell_log_pdf_lists_its_columns(casefile, tmp_path):
    """GIVEN Sandwell's Q4 log WHEN rendered as PDF THEN the Appendix 4 headings and S1's child are in its text."""
    pdf = write_report(_build(casefile, "sandwell-summary-log"), "pdf")
    qpdf_check(pdf, tmp_path)
    text = pdf_text(pdf, tmp_path)
    for heading in ("Escalation Number", "Summary of Professional Disagreement", "Outcome of Resolution"):
        assert heading in text
    assert "Amira Okafor" in text


@pytest.mark.e2e
def test_word_files_open_in_libreoffice_with_their_charts(casefile, tmp_path):
    """GIVEN the Q4 activity report and Gloucestershire's log WHEN written as Word and opened by LibreOffice
    THEN their text holds the figures and tables, and each chart is a picture in the document."""
    activity = write_report(_build(casefile, "activity"), "docx")
    glos = write_report(_build(casefile, "gloucestershire-strategic-log"), "docx")
    assert len(Document(io.BytesIO(activity)).inline_shapes) == 3
    assert len(Document(io.BytesIO(glos)).inline_shapes) == 1
    texts = libreoffice_text({"activity.docx": activity, "glos.docx": glos}, tmp_path)
    assert "Cases opened" in texts["activity.docx"] and "Stages missed" in texts["activity.docx"]
    assert "Plans" in texts["glos.docx"] and "Recurring" in texts["glos.docx"]


def test_the_command_writes_each_format_and_refuses_a_bad_period(casefile, tmp_path, capsys):
    """GIVEN a settings file naming the case file WHEN ``resdesk report`` runs THEN it writes the file in the
    format its suffix names, prints the same figures with --json, and a bad period is a usage error (2)."""
    _, _, root = casefile
    config = tmp_path / "resdesk.toml"
    config.write_text(f'[storage]\ndatabase = "sqlite:///{root / "resdesk.sqlite3"}"\narchive = "{root / "archive"}"\n',
                      encoding="utf-8")
    out = tmp_path / "activity.xlsx"
    args = ["report", "activity", "--period", "2026Q4", "--now", "2027-01-15T12:00", "--config", str(config)]
    assert main([*args, "-o", str(out)]) == 0
    assert load_workbook(out).active.max_row == 9
    capsys.readouterr()
    assert main([*args, "--json"]) == 0
    assert '"Cases opened": 8' in capsys.readouterr().out
    assert main(["report", "activity", "--period", "last quarter", "--config", str(config), "--json"]) == 2
    assert "2026Q4" in capsys.readouterr().err
    assert main(["report", "weekly", "--period", "2026Q4", "--config", str(config), "--json"]) == 2
