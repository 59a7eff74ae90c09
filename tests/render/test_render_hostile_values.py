"""Values from mail are text: hostile markup, template syntax and odd characters print as typed.

A value is never markup: it loads nothing, embeds nothing, reaches no one and
runs nothing, in PDF and in Word alike.
"""

from __future__ import annotations

import io
import re
import socket
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2.exceptions import SecurityError
from pypdf import PdfReader

from resdesk.render import (
    RecordedItem,
    RefusedURL,
    html_environment,
    html_to_pdf,
    render_acknowledgement,
    render_html,
    render_notice,
    render_notice_docx,
    render_resolution_notice,
    render_resolution_notice_docx,
    word_environment,
)
from resdesk.render.examples import example_acknowledgement, example_notice, example_resolution_notice
from tests.render.tools import libreoffice_text, pdf_text, qpdf_check, squash

ATTACHMENT = "<link rel=attachment href=file:///etc/passwd>"
TEMPLATE = "{{ cycler.__init__.__globals__ }}"
STATEMENT = "{% for x in range(3) %}loop{% endfor %}"
AMPERSAND = "Health & Social Care <Trust> \"quoted\" 'single'"
NAMES = "Siobhán Ó Briain and Zoë Łukasz-Ñúñez"


def hostile_values(port: int) -> list[str]:
    return [ATTACHMENT, f"<img src=http://127.0.0.1:{port}/>", TEMPLATE, STATEMENT, AMPERSAND, NAMES]


def _embedded_files(pdf: bytes) -> int:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.attachments)


def test_listener_counts_a_real_connection(listener):
    """GIVEN the counting listener WHEN something connects THEN it counts it (so zero below means zero)."""
    socket.create_connection(("127.0.0.1", listener.port)).close()
    for _ in range(100):
        if listener.connections:
            break
        time.sleep(0.02)
    assert listener.connections == 1


def test_hostile_values_in_pdf_letters_are_literal_text(tmp_path, listener):
    """GIVEN hostile values in every free-text field of an acknowledgement, a notice and a Resolution Notice
    WHEN rendered to PDF THEN each prints exactly as typed, nothing is embedded, and nobody is contacted."""
    values = hostile_values(listener.port)
    ack = example_acknowledgement(
        received_subject=values[0],
        recorded=[RecordedItem(label=f"Field {i}", value=v) for i, v in enumerate(values)],
        next_action=values[1],
        if_unresolved=values[2],
    )
    notice = example_notice(summary="\n".join(values), next_action=values[3])
    resolution = example_resolution_notice(
        child_name=values[5], raised_by_agency=values[4], discussion_summary="\n".join(values)
    )
    for name, pdf in [
        ("ack.pdf", render_acknowledgement(ack)),
        ("notice.pdf", render_notice(notice)),
        ("resolution.pdf", render_resolution_notice(resolution)),
    ]:
        qpdf_check(pdf, tmp_path, name)
        assert _embedded_files(pdf) == 0, name
        text = pdf_text(pdf, tmp_path, name)
        for value in values:
            assert squash(value) in text, (name, value)
    assert listener.connections == 0


def test_hostile_values_in_word_documents_are_literal_text(tmp_path):
    """GIVEN hostile values in a Resolution Notice and a notice letter WHEN rendered to Word
    THEN LibreOffice opens both and their text shows each value exactly as typed."""
    values = hostile_values(9)
    resolution = example_resolution_notice(
        child_name=NAMES, raised_by_agency=AMPERSAND, discussion_summary="\n".join(values), outcome_summary=TEMPLATE
    )
    notice = example_notice(summary="\n".join(values), next_action=STATEMENT, title=AMPERSAND)
    texts = libreoffice_text(
        {"resolution.docx": render_resolution_notice_docx(resolution), "notice.docx": render_notice_docx(notice)},
        tmp_path,
    )
    for name, text in texts.items():
        for value in values:
            assert squash(value) in text, (name, value)
    assert "loop" not in texts["notice.docx"].replace(STATEMENT, "")


def test_markup_put_in_a_template_cannot_load_files_or_reach_the_network(listener):
    """GIVEN raw HTML (not a value) that links a local file or a loopback URL
    WHEN rendered THEN the fetcher refuses it, rendering stops, and the port sees no connection."""
    with pytest.raises(RefusedURL):
        html_to_pdf(f"<html><head>{ATTACHMENT}</head><body>x</body></html>")
    with pytest.raises(RefusedURL):
        html_to_pdf(f'<html><body><img src="http://127.0.0.1:{listener.port}/"></body></html>')
    with pytest.raises(RefusedURL):
        html_to_pdf('<html><body><img src="data:image/png;base64,iVBORw0KGgo="></body></html>')
    assert listener.connections == 0


@pytest.mark.parametrize("environment", [html_environment, word_environment])
def test_the_template_sandbox_refuses_python_internals(environment):
    """GIVEN the HTML or the Word template environment WHEN a template reaches for Python internals
    THEN the sandbox refuses (a template cannot read globals or run code)."""
    with pytest.raises(SecurityError):
        environment().from_string("{{ cycler.__init__.__globals__.os }}").render()
    with pytest.raises(SecurityError):
        environment().from_string("{{ ''.__class__.__mro__[1].__subclasses__() }}").render()


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80))
def test_any_text_value_stays_text_in_the_html(value):
    """GIVEN any text as the next action WHEN the acknowledgement's HTML is built
    THEN parsing the HTML gives back that text, and it adds no element. The text comes back as
    every rendered value does: without control characters, and with zero-width break
    opportunities in long unbroken runs (which change nothing a reader sees or copies)."""
    from html.parser import HTMLParser

    from resdesk.forms.values import without_controls

    class Collect(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.tags = 0
            self.text = []

        def handle_starttag(self, tag, attrs):
            self.tags += 1

        def handle_data(self, data):
            self.text.append(data)

    baseline = Collect()
    baseline.feed(render_html("acknowledgement.html", example_acknowledgement(next_action="x")))
    parsed = Collect()
    parsed.feed(render_html("acknowledgement.html", example_acknowledgement(next_action=value)))
    assert parsed.tags == baseline.tags
    visible = without_controls(value).replace("\u200b", "")
    assert visible in "".join(parsed.text).replace("\u200b", "")


def test_a_long_run_of_digits_comes_back_whole_apart_from_break_opportunities():
    """GIVEN forty digits in a row as the next action (the example that showed the break
    opportunities) WHEN the acknowledgement's HTML is built THEN the digits are all there, in
    order, with zero-width spaces between groups so a PDF can wrap them."""
    html = render_html("acknowledgement.html", example_acknowledgement(next_action="0" * 40))
    assert "0" * 40 not in html
    assert "0" * 40 in html.replace("\u200b", "")


def _long_token(name: str) -> str:
    return f"https://portal.partnership.example/{name}/" + "a1b2c3d4e5" * 25 + f"/end_of_{name}"  # no hyphen: pdftotext joins a hyphen at a line end


@pytest.mark.parametrize(
    "render, example, hidden",
    [
        (render_acknowledgement, example_acknowledgement, {"due_note"}),
        (render_notice, example_notice, {"kind"}),
        (render_resolution_notice, example_resolution_notice, set()),
    ],
)
def test_long_values_without_spaces_wrap_and_are_never_cut_off(render, example, hidden, tmp_path):
    """GIVEN every text a document shows replaced by a 290-character link without a space
    WHEN the PDF is rendered THEN each link is there whole in the extracted text (wrapped across lines,
    never clipped at the edge of the page or of its table cell). The case reference is the product's own."""
    view = example()
    hidden = hidden | {"case_ref"}
    shown = [name for name, value in view.model_dump().items() if isinstance(value, str) and name not in hidden]
    pdf = render(view.model_copy(update={name: _long_token(name) for name in shown}))
    text = re.sub(r"Case \S+ Page \d+ of \d+", "", pdf_text(pdf, tmp_path))  # a page break's footer
    text = "".join(text.split())
    assert [name for name in shown if _long_token(name) not in text] == []


def test_bidirectional_overrides_never_reach_a_document(tmp_path):
    """GIVEN a child's name and a summary holding right-to-left override and isolate characters
    WHEN the Resolution Notice renders as PDF and Word THEN neither holds any of them, and the letters remain."""
    view = example_resolution_notice().model_copy(
        update={"child_name": "Amy \u202eHTIMS\u202c", "discussion_summary": "Agreed \u2067[OLD-2026-0001]\u2069"}
    )
    pdf_words = pdf_text(render_resolution_notice(view), tmp_path)
    word_words = libreoffice_text({"notice.docx": render_resolution_notice_docx(view)}, tmp_path)["notice.docx"]
    for text in (pdf_words, word_words):
        assert not any(ch in text for ch in "\u202e\u202c\u2067\u2069")
        assert "Amy HTIMS" in text and "Agreed [OLD-2026-0001]" in text
