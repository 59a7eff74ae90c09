"""The auditor's record: PDF/A-3 with the case's JSON embedded, every hash, every deadline."""

from __future__ import annotations

import io
import json
from datetime import datetime

from pypdf import PdfReader

from resdesk import render
from resdesk.render import StageRow, render_case_record
from resdesk.render.examples import example_case_record
from resdesk.render.timeline import timeline_chart
from tests.render.tools import pdf_text, qpdf_check


def test_record_is_pdfa3_and_carries_the_case_json(tmp_path):
    """GIVEN a case WHEN its auditor record renders THEN the PDF passes qpdf, declares PDF/A-3U in its XMP
    metadata, and embeds the case's JSON as a source attachment equal to the record."""
    view = example_case_record()
    pdf = render_case_record(view)
    qpdf_check(pdf, tmp_path)
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.xmp_metadata.stream.get_data().decode("utf-8")
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="U"' in xmp
    assert list(reader.attachments) == ["case-OLD-2026-0007.json"]
    (content,) = reader.attachments["case-OLD-2026-0007.json"]
    assert json.loads(content) == view.record_json
    root = reader.trailer["/Root"]
    specs = [entry.get_object() for entry in root["/AF"]]
    assert specs and all(spec["/AFRelationship"] == "/Source" for spec in specs)
    assert {spec["/UF"] for spec in specs} == {"case-OLD-2026-0007.json"}
    assert root["/Lang"] == "en-GB"


def test_record_lists_every_message_document_event_and_deadline(tmp_path):
    """GIVEN a case with messages, documents, events and deadlines WHEN its record renders
    THEN the text shows each hash, each event, and which deadlines were met, missed or overdue."""
    view = example_case_record()
    text = pdf_text(render_case_record(view), tmp_path)
    for message in view.messages:
        assert message.sha256 in text.replace(" ", "")
        assert message.subject in text
    for document in view.documents:
        assert document.name in text
    for event in view.events:
        assert event.description in text
    assert "met" in text and "missed" in text and "overdue" in text
    assert "Timeline of stages against their deadlines" in text


def test_timeline_marks_a_stage_that_ran_past_its_deadline():
    """GIVEN stages met, late and still open WHEN the chart is laid out
    THEN only bars that ran past their due time are late, and every bar lies within the chart."""
    stages = [row.model_dump() for row in example_case_record().stages]
    chart = timeline_chart(stages, datetime(2026, 12, 30, 12))
    assert [row["late"] for row in chart["rows"]] == [False, True, True]
    assert [row["open"] for row in chart["rows"]] == [False, False, True]
    for row in chart["rows"]:
        assert 0 <= row["bar_x"] and row["bar_x"] + row["bar_width"] <= chart["width"]
        assert row["due_x"] is None or row["due_x"] <= chart["width"]


def test_timeline_of_a_stage_without_timescale_has_no_deadline_tick():
    """GIVEN a stage with no fixed timescale WHEN charted THEN it has a bar and no deadline tick."""
    stage = StageRow(stage=0, name="Informal", entered_at=datetime(2026, 1, 5, 9))
    chart = timeline_chart([stage.model_dump()], datetime(2026, 1, 6, 9))
    (row,) = chart["rows"]
    assert row["due_x"] is None and not row["late"]


def test_public_surface_is_true():
    """GIVEN render's __all__ WHEN each name is looked up THEN it exists."""
    missing = [name for name in render.__all__ if not hasattr(render, name)]
    assert missing == []


def test_hostile_values_in_the_record_stay_text_and_embed_only_the_json(tmp_path, listener):
    """GIVEN events, messages and documents whose text is hostile markup
    WHEN the auditor record renders THEN the only embedded file is the case JSON, the port sees no
    connection, and the values print as typed."""
    from resdesk.render import DocumentRow, EventRow, MessageRow

    link = "<link rel=attachment href=file:///etc/passwd>"
    image = f"<img src=http://127.0.0.1:{listener.port}/>"
    base = example_case_record()
    view = base.model_copy(
        update={
            "events": [EventRow(at=datetime(2026, 12, 17, 9), kind="note", description=link, actor=image)],
            "messages": [base.messages[0].model_copy(update={"subject": "{{ cycler.__init__.__globals__ }}"})],
            "documents": [DocumentRow(at=datetime(2026, 12, 17, 9), name="Zoë & <Siobhán>.pdf",
                                      media_type="application/pdf", sha256="0" * 64)],
        }
    )
    pdf = render_case_record(view)
    qpdf_check(pdf, tmp_path)
    assert list(PdfReader(io.BytesIO(pdf)).attachments) == ["case-OLD-2026-0007.json"]
    # Narrow table cells wrap long values at "/" with no space; compare without spaces.
    text = pdf_text(pdf, tmp_path).replace(" ", "")
    for value in [link, image, "{{ cycler.__init__.__globals__ }}", "Zoë & <Siobhán>.pdf"]:
        assert value.replace(" ", "") in text, value
    assert listener.connections == 0


def _fonts(reader: PdfReader) -> list:
    found = {}
    for page in reader.pages:
        resources = page["/Resources"].get_object()
        fonts = resources.get("/Font")
        for ref in (fonts.get_object().values() if fonts is not None else []):
            found[getattr(ref, "idnum", id(ref))] = ref.get_object()
    return list(found.values())


def test_every_font_of_the_record_maps_its_glyphs_to_unicode(tmp_path):
    """GIVEN a record whose values hold accented, Welsh, Polish and right-to-left-free non-Latin text
    WHEN it renders THEN every font on every page carries a ToUnicode map, and the text extracts
    exactly as written (PDF/A-3u: searchable)."""
    names = "Siobhán Ó Briain, Zoë Łukasz-Ñúñez, Gwenllïan ap Dafydd"
    view = example_case_record()
    view = view.model_copy(update={"child": view.child.model_copy(update={"name": names})})
    pdf = render_case_record(view)
    fonts = _fonts(PdfReader(io.BytesIO(pdf)))
    assert fonts and all("/ToUnicode" in font for font in fonts)
    assert names in " ".join(pdf_text(pdf, tmp_path).split())
