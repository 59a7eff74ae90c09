"""A long auditor record is laid out in parts and joined into one PDF/A-3u file."""

from __future__ import annotations

import io
import json
import subprocess
from datetime import datetime, timedelta

from pypdf import PdfReader
from pypdf.generic import ArrayObject, IndirectObject

from resdesk.render import EventRow, render_case_record
from resdesk.render.examples import example_case_record
from resdesk.render.recordparts import SECTIONS, plan_parts
from tests.render.tools import qpdf_check


def _long_case(rows: int):
    base = example_case_record()
    start = datetime(2026, 12, 16, 9)
    return base.model_copy(update={
        "events": [EventRow(at=start + timedelta(minutes=i), kind="message-recorded",
                            description=f"Stage summary {i} recorded from the agency's lead practitioner")
                   for i in range(rows)],
        "messages": [base.messages[0].model_copy(update={"at": start + timedelta(minutes=i), "subject": f"Summary {i}"})
                     for i in range(rows)],
    })


def test_parts_hold_every_row_once_in_order_and_mark_continued_sections():
    """GIVEN a case with 200 events and 200 messages WHEN it is cut into parts of 150 lines
    THEN every row of every section is in exactly one part, in order; only the first part opens
    the record; a section carried into a later part says it continues; page numbers are left
    for the join."""
    view = _long_case(200)
    parts = plan_parts(view, 150)
    assert len(parts) > 3
    assert [part.first for part in parts] == [True] + [False] * (len(parts) - 1)
    for name in SECTIONS:
        rows = [row for part in parts for row in part.rows.get(name, [])]
        assert rows == [row.model_dump(mode="python") for row in getattr(view, name)], name
    seen: set[str] = set()
    for part in parts:
        for name, rows in part.rows.items():
            assert part.continued[name] == (name in seen and bool(rows))
            seen.add(name)
    assert not any(part.footers for part in parts)


def test_a_record_that_fits_is_one_part_with_its_own_footers():
    """GIVEN the example case WHEN it is planned with the default part size THEN it is one part,
    which lays out its own page footers, with every section in it."""
    (part,) = plan_parts(example_case_record())
    assert part.first and part.footers and set(part.rows) == set(SECTIONS)


def test_a_row_longer_than_a_part_is_a_part_by_itself():
    """GIVEN a message whose text is far longer than a part WHEN the record is planned THEN that
    message is alone in its part and nothing is lost."""
    base = example_case_record()
    view = base.model_copy(update={"messages": [base.messages[0].model_copy(update={"text": "line\n" * 500})] * 3})
    parts = plan_parts(view, 100)
    holding = [part.rows["messages"] for part in parts if part.rows.get("messages")]
    assert [len(rows) for rows in holding] == [1, 1, 1]


def _structure_pages(reader: PdfReader) -> set[int]:
    """The page numbers the structure tree's elements point at."""
    pages = {page.indirect_reference.idnum: number for number, page in enumerate(reader.pages)}
    tree = reader.trailer["/Root"]["/StructTreeRoot"].get_object()
    found, waiting = set(), list(tree["/K"])
    while waiting:
        reference = waiting.pop()
        if not isinstance(reference, IndirectObject):
            continue
        node = reference.get_object()
        if "/Pg" in node:
            found.add(pages[node.raw_get("/Pg").idnum])
        kids = node.get("/K")
        waiting.extend(kids if isinstance(kids, ArrayObject) else [kids])
    return found


def test_a_record_in_parts_is_one_tagged_pdfa3u_file_numbered_throughout(tmp_path):
    """GIVEN a case with 40 events and 40 messages WHEN its record renders in parts of 120 lines
    THEN the joined file passes qpdf, declares PDF/A-3U, embeds the case JSON once as its source,
    numbers every page "Page N of M" under the case reference, lists every event and message, and
    its structure tree reaches every page, each page with its own entry in the parent tree."""
    view = _long_case(40)
    assert len(plan_parts(view, 120)) > 2
    pdf = render_case_record(view, part_lines=120)
    qpdf_check(pdf, tmp_path)
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.xmp_metadata.stream.get_data().decode("utf-8")
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="U"' in xmp
    assert list(reader.attachments) == ["case-OLD-2026-0007.json"]
    assert json.loads(reader.attachments["case-OLD-2026-0007.json"][0]) == view.record_json
    total = len(reader.pages)
    path = tmp_path / "record.pdf"
    path.write_bytes(pdf)
    for number in range(1, total + 1):
        page_text = subprocess.run(["pdftotext", "-f", str(number), "-l", str(number), str(path), "-"],
                                   capture_output=True, check=True, text=True).stdout
        assert f"Page {number} of {total}" in page_text and "Case OLD-2026-0007" in page_text, number
    text = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True,
                                   text=True).stdout.split())
    for event in view.events:
        assert event.description in text
    for message in view.messages:
        assert message.subject in text
    assert _structure_pages(reader) == set(range(total))
    keys = [page["/StructParents"] for page in reader.pages]
    numbers = reader.trailer["/Root"]["/StructTreeRoot"]["/ParentTree"]["/Nums"]
    assert len(set(keys)) == total and set(keys) <= {numbers[i] for i in range(0, len(numbers), 2)}
