"""Property tests: any record written to a blank template reads back unchanged; no input crashes a reader."""

from __future__ import annotations

import io
import zipfile
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resdesk.forms import KINDS, email_text, fill_docx, fill_pdf, read_email_text, read_form
from resdesk.forms.layout import TEMPLATES, Field
from resdesk.forms.records import RECORD_TYPES, REQUIRED, ROW_TYPES
from resdesk.forms.values import blank
from make_samples import RECORDS
from resdesk.errors import FormError

PROPERTY = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_CHARS = st.characters(whitelist_categories=("Lu", "Ll", "Nd"), max_codepoint=0x17F) | st.sampled_from(
    list(" ,.;'-/()&")
)
# A line of just "--" is where typed mail's signature begins (``forms.grid.read_lines``), as ">" starts a
# quoted line and "|" a table row: none of them is text a field can hold in mail, so none is drawn.
LINE = st.text(_CHARS, min_size=1, max_size=24).map(str.strip).filter(lambda s: not blank(s) and s != "--")
PARAGRAPHS = st.lists(LINE, min_size=1, max_size=3).map("\n".join)
DATES = st.dates(min_value=date(1990, 1, 1), max_value=date(2069, 12, 31))


def _nhs_number(nine: str) -> str | None:
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1)))
    check = (11 - total % 11) % 11
    return None if check == 10 else nine + str(check)


# Nine digits from the England, Wales and Isle of Man ranges (4…, 6…, 7…), as issued numbers are.
NHS = (
    st.tuples(st.sampled_from("467"), st.text("0123456789", min_size=8, max_size=8))
    .map("".join).map(_nhs_number).filter(bool).filter(lambda n: len(set(n)) > 1)
)
LOCAL_ID = st.text("0123456789", min_size=3, max_size=6).map(lambda d: f"PID-{d}")
EMAIL = st.tuples(st.text("abcdefghij", min_size=1, max_size=8), st.text("klmnop", min_size=1, max_size=8)).map(
    lambda parts: f"{parts[0]}@{parts[1]}.example"
)
BY_NAME = {
    "child_identifier": NHS | LOCAL_ID,
    "raised_by_email": EMAIL,
    "resolved_at_level": st.integers(0, 9),
    "stage": st.integers(0, 9),
    "child_age": st.integers(0, 25),
    "child_dob": st.dates(min_value=date(1990, 1, 1), max_value=date(2025, 12, 31)),
    "protocol": st.sampled_from(["oldham", "haringey", "gloucestershire", "sandwell", "lscp-lsab"]),
}


def _value(field: Field):
    if field.name in BY_NAME:
        return BY_NAME[field.name]
    if field.control == "date":
        return DATES
    if field.control == "yesno":
        return st.booleans()
    if field.control in ("choice", "ticks"):
        return st.sampled_from([value for value, _ in field.choices])
    if field.control == "rich":
        return PARAGRAPHS
    return LINE


def records(kind: str, one_line_cells: bool = False):
    template = TEMPLATES[kind]
    scalars = {
        f.name: (_value(f) if f.name in REQUIRED[kind] else st.none() | _value(f)) for f in template.fields()
    }
    tables = {}
    for table in template.tables():
        columns = [f for column in table.columns for f in column.fields]
        first, rest = columns[0], columns[1:]

        def cell(f: Field):
            return LINE if one_line_cells and f.control == "rich" else _value(f)

        row = st.fixed_dictionaries({first.name: cell(first), **{f.name: st.none() | cell(f) for f in rest}})
        tables[table.name] = st.lists(row, max_size=6)
    return st.fixed_dictionaries({**scalars, **tables}).map(RECORD_TYPES[kind].model_validate)


def _check(kind, fill, data):
    record = data.draw(records(kind))
    result = read_form(fill(kind, record), "property")
    assert result.kind == kind
    assert result.record == record


@PROPERTY
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_any_record_round_trips_through_word(kind, data):
    """GIVEN any valid record WHEN written into the blank Word template and read THEN it is unchanged."""
    _check(kind, fill_docx, data)


@PROPERTY
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_any_record_round_trips_through_pdf(kind, data):
    """GIVEN any valid record WHEN written into the blank PDF form and read THEN it is unchanged."""
    _check(kind, fill_pdf, data)


@PROPERTY
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_any_record_round_trips_through_email_text(kind, data):
    """GIVEN any valid record (table cells on one line) WHEN written as Label: value text and read
    THEN it is unchanged."""
    record = data.draw(records(kind, one_line_cells=True))
    result = read_email_text(email_text(kind, record))
    assert result is not None and result.kind == kind
    assert result.record == record


def _reads_or_refuses(data: bytes) -> None:
    try:
        read_form(data, "fuzz")
    except FormError as error:
        assert error.file == "fuzz" and error.reason


SEED_DOCX = fill_docx("resolution-notice", RECORDS["resolution-notice"])
SEED_PDF = fill_pdf("escalation-concern", RECORDS["escalation-concern"])


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(data):
    """GIVEN any bytes WHEN read as a form THEN the result is a record or a FormError, never a crash."""
    _reads_or_refuses(data)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["docx", "pdf"]), st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 255)), max_size=8))
def test_damaged_files_never_crash(fmt, damage):
    """GIVEN a real filled form with some bytes overwritten WHEN read THEN a record or a FormError, never a crash."""
    data = bytearray(SEED_DOCX if fmt == "docx" else SEED_PDF)
    for position, value in damage:
        data[position % len(data)] = value
    _reads_or_refuses(bytes(data))


@settings(max_examples=25, deadline=None)
@given(st.text(max_size=300))
def test_any_document_text_never_crashes(text):
    """GIVEN any text inside a Word document's body WHEN read THEN a record or a FormError, never a crash."""
    from xml.sax.saxutils import escape

    clean = "".join(c for c in text if c in "\t\n" or (" " <= c and c not in "\ufffe\uffff" and not 0xD800 <= ord(c) <= 0xDFFF))
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(SEED_DOCX)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "word/document.xml":
                content = content.replace(b"Amelia Hart", escape(clean).encode("utf-8"), 1)
            target.writestr(item.filename, content)
    _reads_or_refuses(buffer.getvalue())
