"""Every document renders as a valid, tagged, A4, en-GB PDF that says what the case says."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from resdesk.render import (
    EscalationConcernView,
    Party,
    render_acknowledgement,
    render_escalation_concern,
    render_html,
    render_notice,
    render_reminder,
    render_resolution_notice,
)
from resdesk.render.examples import (
    example_acknowledgement,
    example_notice,
    example_reminder,
    example_resolution_notice,
)
from resdesk.errors import RenderError

from tests.render.tools import pdf_text, qpdf_check

A4 = (595.28, 841.89)


def _structure(pdf: bytes) -> PdfReader:
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB"
    assert root["/MarkInfo"]["/Marked"].value is True
    assert "/StructTreeRoot" in root
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width, 1), round(height, 1)) == (round(A4[0], 1), round(A4[1], 1))
    return reader


def test_acknowledgement_states_what_was_recorded_and_when_the_next_step_is_due(tmp_path):
    """GIVEN a recorded Oldham stage 2 summary WHEN the acknowledgement renders
    THEN it is a valid tagged A4 PDF naming the case, the stage, its due time and what happens next."""
    view = example_acknowledgement()
    pdf = render_acknowledgement(view)
    qpdf_check(pdf, tmp_path)
    reader = _structure(pdf)
    assert reader.metadata.title == "Acknowledgement: the stage 2 summary (outcome: escalated) [OLD-2026-0007]"
    text = pdf_text(pdf, tmp_path)
    for expected in [
        "OLD-2026-0007",
        "Stage 2: Service/Senior Managers",
        "2 working days",
        "Tuesday 29 December 2026 at 23:59",
        "Wednesday 6 January 2027 at 23:59",
        view.next_action,
        view.if_unresolved,
        "Siobhán Ó Briain",
        "Zoë Adeyemi",
        "RE: Escalation & Resolution Protocol: Stage 2 Summary",
    ]:
        assert expected in text, expected


def test_acknowledgement_says_when_the_protocol_sets_no_timescale(tmp_path):
    """GIVEN a stage with no fixed timescale WHEN acknowledged THEN the letter says so instead of a date."""
    pdf = render_acknowledgement(example_acknowledgement(due=None, basis="no fixed timescale", cumulative_due=None))
    text = pdf_text(pdf, tmp_path)
    assert "No fixed timescale under the protocol" in text
    assert "Overall target" not in text


def test_due_times_print_in_london_time_whatever_offset_they_carry(tmp_path):
    """GIVEN a due time in UTC during British Summer Time WHEN rendered THEN it prints as London local time."""
    from datetime import datetime, timezone

    view = example_acknowledgement(due=datetime(2026, 7, 1, 22, 59, 59, tzinfo=timezone.utc))
    text = pdf_text(render_acknowledgement(view), tmp_path)
    assert "Wednesday 1 July 2026 at 23:59" in text


@pytest.mark.parametrize(
    ("kind", "title", "expected"),
    [
        ("stage3-notification", "Notification of Escalation progressing to stage 3", "review themes"),
        ("stage4-account", "Stage 4 escalation: full account", "full account of the history of the dispute"),
        ("iro-notice", "Notice to the Independent Reviewing Officer", "Independent Reviewing Officer"),
        ("stage-entry", "Escalation has entered stage 3", "has entered stage 3"),
        # Haringey §6, Sandwell §4 Note, and an outcome to be confirmed in writing (Sandwell Appendix 2 pathway,
        # Oldham §3): the seeds give no template for these, so each is a PDF letter in the notice layout.
        ("conference-request", "Request for a child protection conference after stage 1",
         "formally requests that children's social care convene a child protection conference"),
        ("imminent-risk", "Imminent risk: MARF and MASH referral the same working day",
         "A MARF must be completed and the case referred to MASH on the same working day"),
        ("outcome-letter", "Outcome to be confirmed in writing: resolved at stage 3",
         "The outcome is to be confirmed in writing by"),
    ],
)
def test_each_stage_entry_notice_carries_its_protocol_wording_and_the_case(tmp_path, kind, title, expected):
    """GIVEN a stage-entry notice of each kind WHEN rendered THEN it is valid, titled, and carries the case's values."""
    view = example_notice(kind=kind, title=title)
    pdf = render_notice(view)
    qpdf_check(pdf, tmp_path)
    reader = _structure(pdf)
    assert reader.metadata.title == f"{title} [OLD-2026-0007]"
    text = pdf_text(pdf, tmp_path)
    for value in [title, expected, "OLD-2026-0007", "Zoë Adeyemi", "943 476 5919", "Managers met; escalated.", "OSCP Business Unit"]:
        assert value in text, value


def test_reminder_and_overdue_alert_differ_and_name_the_local_setting(tmp_path):
    """GIVEN a reminder, an overdue alert, and a reminder from a local review setting
    WHEN rendered THEN each says which it is, and the local one says it is not the protocol's."""
    pdfs = {
        "r.pdf": render_reminder(example_reminder()),
        "o.pdf": render_reminder(example_reminder(kind="overdue")),
        "l.pdf": render_reminder(example_reminder(due=None, basis="no fixed timescale", local_setting=True)),
    }
    for name, pdf in pdfs.items():
        qpdf_check(pdf, tmp_path, name)
        _structure(pdf)
    reminder, overdue, local = (pdf_text(pdf, tmp_path, name) for name, pdf in pdfs.items())
    assert "Reminder: stage 3 is due soon" in reminder and "overdue" not in reminder.lower()
    assert "Stage 3 is overdue" in overdue and "passed Tuesday 29 December 2026 at 23:59" in overdue
    assert "set locally by the partnership, not from the protocol" in local
    assert "not from the protocol" not in reminder


def test_resolution_notice_follows_oldham_appendix_2(tmp_path):
    """GIVEN a case at Oldham stage 4 WHEN the Resolution Notice renders THEN it has Appendix 2's labels, pre-filled."""
    pdf = render_resolution_notice(example_resolution_notice())
    qpdf_check(pdf, tmp_path)
    _structure(pdf)
    text = pdf_text(pdf, tmp_path)
    for value in [
        "Resolution Notice",
        "Date of Notification 30 December 2026",
        "Name of Child/Young Person Zoë Adeyemi",
        "D.O.B 3 April 2015",
        "Unique Identifier (NHS/PID Number) 943 476 5919",
        "Convene virtual panel",
        "OSCP.group@oldham.gov.uk",
    ]:
        assert value in text, value


def test_sandwell_escalation_template_prefilled_for_the_business_unit(tmp_path):
    """GIVEN a Sandwell case at stage 2 WHEN its escalation template renders THEN its fields are filled."""
    from datetime import date, datetime

    view = EscalationConcernView(
        case_ref="SAN-2026-0003",
        protocol_name="Sandwell Children's Safeguarding Partnership Escalation Policy",
        sender_agency="Sandwell Children's Safeguarding Partnership",
        recipient=Party(name="SCSP Business Unit"),
        issued_at=datetime(2026, 3, 2, 9),
        child_name="Zoë Adeyemi",
        child_dob=date(2015, 4, 3),
        raised_by_name="Siobhán Ó Briain",
        current_level_of_need="child-in-need",
        perceived_level_of_need="child-protection",
        disagreement_details="Threshold for strategy discussion",
        discussion_date=date(2026, 2, 27),
    )
    pdf = render_escalation_concern(view)
    qpdf_check(pdf, tmp_path)
    text = pdf_text(pdf, tmp_path)
    for value in ["SAN-2026-0003", "Zoë Adeyemi", "child-protection", "27 February 2026", "SCSP Business Unit"]:
        assert value in text, value


def test_a_template_missing_a_value_fails_loudly():
    """GIVEN a view lacking a field the template uses WHEN rendered THEN RenderError, never a silent blank."""
    data = example_acknowledgement().model_dump()
    del data["next_action"]
    with pytest.raises(RenderError, match="next_action"):
        render_html("acknowledgement.html", data)


def test_a_long_unbroken_value_wraps_inside_the_page(tmp_path):
    """GIVEN a summary that is one 300-character token (a pasted link, say) WHEN the notice renders
    THEN every word poppler finds lies inside the A4 page, so nothing is cut off."""
    import re
    import subprocess

    token = "https://records.example/" + "a" * 300
    pdf = render_notice(example_notice(summary=token))
    path = tmp_path / "long.pdf"
    path.write_bytes(pdf)
    bbox = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    right_edges = [float(x) for x in re.findall(r'xMax="([0-9.]+)"', bbox)]
    assert right_edges and max(right_edges) <= A4[0]
    text = re.sub(r"Case \S+ Page \d+ of \d+", "", pdf_text(pdf, tmp_path))  # the footer of a page break
    assert token in text.replace(" ", "")
