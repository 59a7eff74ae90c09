"""Editable Word copies open in LibreOffice and carry the case's values."""

from __future__ import annotations

import pytest

from resdesk.errors import RenderError

from resdesk.render import render_docx, render_notice_docx, render_resolution_notice_docx
from resdesk.render.examples import example_notice, example_resolution_notice
from tests.render.tools import libreoffice_text


def test_word_documents_open_in_libreoffice_with_the_case_values(tmp_path):
    """GIVEN a Resolution Notice, a stage 4 account and a Haringey conference request WHEN rendered to Word
    and opened by LibreOffice THEN the text has Appendix 2's labels, the child, the agreed actions and the
    notices' titles and history."""
    resolution = example_resolution_notice(discussion_summary="First line\nSecond line")
    notice = example_notice(kind="stage4-account", title="Stage 4 escalation: full account")
    conference = example_notice(kind="conference-request", title="Request for a child protection conference after stage 1")
    texts = libreoffice_text(
        {"resolution.docx": render_resolution_notice_docx(resolution), "notice.docx": render_notice_docx(notice),
         "conference.docx": render_notice_docx(conference)},
        tmp_path,
    )
    for value in ["Request for a child protection conference after stage 1", "Zoë Adeyemi", "OLD-2026-0007"]:
        assert value in texts["conference.docx"], value
    resolution_text = texts["resolution.docx"]
    for value in [
        "Resolution Notice",
        "Name of Child/Young Person",
        "Zoë Adeyemi",
        "3 April 2015",
        "Siobhán Ó Briain",
        "Convene virtual panel",
        "Within 4 working days",
        "First line",
        "Second line",
        "OSCP.group@oldham.gov.uk",
        "OLD-2026-0007",
    ]:
        assert value in resolution_text, value
    notice_text = texts["notice.docx"]
    for value in ["Stage 4 escalation: full account", "Managers met; escalated.", "Tuesday 29 December 2026 at 23:59"]:
        assert value in notice_text, value


def test_unknown_word_template_is_refused():
    """GIVEN a template name that is not one of ours WHEN rendering THEN RenderError, no file is read."""
    with pytest.raises(RenderError, match="no Word template"):
        render_docx("../../resdesk/settings.py", {})
