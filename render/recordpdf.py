"""The auditor's record as one PDF/A-3u file, laid out part by part in bounded memory.

``render_case_record`` lays out each part of the record (``render.recordparts``) as its
own document in the render worker, so no layout ever holds more than a part's pages.
A record of one part is that part's PDF. A longer record is joined with pikepdf (qpdf):

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

import pikepdf

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
    """One record from its parts' PDFs (see the module's notes). qpdf (through pikepdf) holds the
    joined document, a fraction of the memory of Python objects per element of its structure."""
    with pikepdf.open(io.BytesIO(pdfs[0])) as record:
        tree = record.Root.StructTreeRoot
        document = tree.K[0]
        numbers = tree.ParentTree.Nums
        for pdf in pdfs[1:]:
            with pikepdf.open(io.BytesIO(pdf)) as part:
                _append(record, part, document, numbers)
        _stamp_footers(record, case_ref)
        out = io.BytesIO()
        record.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return out.getvalue()


def _append(record: pikepdf.Pdf, part: pikepdf.Pdf, document: pikepdf.Dictionary, numbers: pikepdf.Array) -> None:
    """``part``'s pages after the record's, its structure tree grafted under ``document``."""
    start = 1 + max((int(numbers[i]) for i in range(0, len(numbers), 2)), default=-1)
    first_new = len(record.pages)
    record.pages.extend(part.pages)
    for source, added in zip(part.pages, record.pages[first_new:]):
        if "/StructParents" in source.obj:
            added.obj.StructParents = start + int(source.obj.StructParents)
    tree = part.Root.StructTreeRoot
    for kid in tree.K[0].K:
        copied = record.copy_foreign(kid)
        document.K.append(copied)
        _set_parents(copied, document)
    source_numbers = tree.ParentTree.Nums
    for i in range(0, len(source_numbers), 2):
        numbers.append(start + int(source_numbers[i]))
        numbers.append(_copied(record, source_numbers[i + 1]))


def _copied(record: pikepdf.Pdf, value: pikepdf.Object) -> pikepdf.Object:
    """``value`` from a part, in the record: an indirect object copied, a direct array item by item."""
    if value.is_indirect:
        return record.copy_foreign(value)
    if isinstance(value, pikepdf.Array):
        return pikepdf.Array([_copied(record, item) for item in value])
    return value


def _set_parents(element: pikepdf.Object, parent: pikepdf.Object) -> None:
    """Give each structure element under ``element`` (inclusive) its ``/P`` in the record."""
    waiting = [(element, parent)]
    while waiting:
        node, up = waiting.pop()
        if not isinstance(node, pikepdf.Dictionary) or "/S" not in node:
            continue  # a marked-content or object reference, or a content item number
        node.P = up
        kids = node.get("/K")
        if isinstance(kids, pikepdf.Array):
            waiting.extend((kid, node) for kid in kids)
        elif kids is not None:
            waiting.append((kids, node))


def _stamp_footers(record: pikepdf.Pdf, case_ref: str) -> None:
    """Each page's footer, laid out once for the whole record, drawn on its page as a form
    XObject marked as an artifact (the page's own content is left as it was)."""
    html = render_html("case_record_footers.html", {"case_ref": case_ref, "pages": len(record.pages)})
    with pikepdf.open(io.BytesIO(html_to_pdf(html, pdf_variant=ARCHIVE_VARIANT, tagged=False))) as footers:
        for page, footer in zip(record.pages, footers.pages):
            form = record.copy_foreign(footer.as_form_xobject())
            name = page.add_resource(form, pikepdf.Name.XObject, prefix="Footer")
            page.contents_add(pikepdf.Stream(record, b"q\n"), prepend=True)
            page.contents_add(pikepdf.Stream(record, b"\nQ\nq /Artifact BMC " + bytes(str(name), "ascii")
                                             + b" Do EMC Q\n"))


def _json_default(value: object) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
