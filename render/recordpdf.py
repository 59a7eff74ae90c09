"""The auditor's record as one PDF/A-3u file, laid out part by part in bounded memory.

``render_case_record`` lays out each part of the record (``render.recordparts``) as its
own document in the render worker, so no layout ever holds more than a part's pages.
A record of one part is that part's PDF. A longer record is joined with pypdf:

- the first part's file is the record's file: its PDF/A-3u identification (XMP metadata,
  output intent), its language, and the case JSON embedded as its ``/Source`` attachment;
- every later part's pages follow, and its structure tree (the tags that make the PDF
  accessible) is grafted under the record's ``Document`` element, each page's
  ``/StructParents`` key renumbered into the record's parent tree;
- the page footers ("Case REF", "Page N of M") are laid out once for the whole record as
  an untagged overlay and stamped onto each page, marked as an artifact.

Raises ``RenderError`` (from the render worker) when a part cannot be rendered.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, NumberObject

from .html import ARCHIVE_VARIANT, html_to_pdf, render_html
from .recordparts import PART_LINES, RecordPart, plan_parts
from .views import CaseRecordView

__all__ = ["render_case_record"]


def render_case_record(view: CaseRecordView, *, part_lines: int = PART_LINES) -> bytes:
    """The auditor's record of a case: PDF/A-3u, tagged, with the case's JSON embedded.

    ``part_lines`` is the size of each separately laid-out part in estimated printed lines
    (``render.recordparts``); the default keeps each layout to about eight pages.
    """
    payload = json.dumps(view.record_json, indent=2, sort_keys=True, ensure_ascii=False, default=_json_default)
    attachment = (f"case-{view.case_ref}.json", payload.encode("utf-8"), f"Case record {view.case_ref} as JSON")
    context = view.model_dump(mode="python", exclude={"record_json", "events", "messages", "summaries", "documents"})
    parts = plan_parts(view, part_lines)
    pdfs = [_render_part(context, part, [attachment] if part.first else None) for part in parts]
    if len(pdfs) == 1:
        return pdfs[0]
    return _join(pdfs, view.case_ref)


def _render_part(context: dict[str, Any], part: RecordPart, attachments: list | None) -> bytes:
    html = render_html("case_record.html", {**context, "part": part})
    return html_to_pdf(html, pdf_variant=ARCHIVE_VARIANT, attachments=attachments)


def _join(pdfs: list[bytes], case_ref: str) -> bytes:
    """One record from its parts' PDFs (see the module's notes)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdfs[0])))
    tree = writer.root_object["/StructTreeRoot"].get_object()
    document = tree["/K"][0].get_object()
    numbers = tree["/ParentTree"].get_object()["/Nums"]
    for pdf in pdfs[1:]:
        _append(writer, PdfReader(io.BytesIO(pdf)), document, numbers)
    _stamp_footers(writer, case_ref)
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _append(writer: PdfWriter, reader: PdfReader, document: DictionaryObject, numbers: ArrayObject) -> None:
    """``reader``'s pages after the writer's, its structure tree grafted under ``document``."""
    start = 1 + max((int(numbers[i]) for i in range(0, len(numbers), 2)), default=-1)
    for page in reader.pages:
        added = writer.add_page(page)
        if "/StructParents" in page:
            added[NameObject("/StructParents")] = NumberObject(start + int(page["/StructParents"]))
    source = reader.trailer["/Root"]["/StructTreeRoot"].get_object()
    source_document = source["/K"][0].get_object()
    document_ref = document.indirect_reference
    for kid in source_document["/K"]:
        cloned = kid.clone(writer, ignore_fields=("/P",))
        document["/K"].append(cloned)
        _set_parents(cloned, document_ref)
    source_numbers = source["/ParentTree"].get_object()["/Nums"]
    for i in range(0, len(source_numbers), 2):
        numbers.append(NumberObject(start + int(source_numbers[i])))
        numbers.append(source_numbers[i + 1].clone(writer, ignore_fields=("/P",)))


def _set_parents(element: Any, parent: IndirectObject) -> None:
    """Give each structure element under ``element`` (inclusive) its ``/P`` again."""
    waiting = [(element, parent)]
    while waiting:
        reference, up = waiting.pop()
        if not isinstance(reference, IndirectObject):
            continue
        node = reference.get_object()
        if not isinstance(node, DictionaryObject) or "/S" not in node:
            continue  # a marked-content or object reference, not a structure element
        node[NameObject("/P")] = up
        kids = node.get("/K")
        for kid in kids if isinstance(kids, ArrayObject) else [kids]:
            waiting.append((kid, reference))


def _stamp_footers(writer: PdfWriter, case_ref: str) -> None:
    """Each page's footer, laid out once for the whole record and stamped as an artifact."""
    html = render_html("case_record_footers.html", {"case_ref": case_ref, "pages": len(writer.pages)})
    footers = PdfWriter(clone_from=io.BytesIO(html_to_pdf(html, pdf_variant=ARCHIVE_VARIANT, tagged=False)))
    for page, footer in zip(writer.pages, footers.pages):
        contents = footer.get_contents()
        contents.set_data(b"/Artifact BMC\n" + contents.get_data() + b"\nEMC\n")
        footer.replace_contents(contents)
        page.merge_page(footer)
        page.compress_content_streams()  # merging leaves the page's joined content uncompressed


def _json_default(value: object) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
