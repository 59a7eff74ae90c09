"""Reading a filled Word form (.docx) into a record.

Content controls tagged with field names (our blank templates) are read first;
legacy form fields and label/value tables laid out as the seeds print them fill
in anything the controls did not give. The package must already have passed
``forms.safety.check_docx``, whose checked XML parts it reads when given them (the package is
then not unpacked a second time).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Mapping

from lxml import etree

from resdesk.forms import labels
from resdesk.forms.assemble import FieldProblem, RawForm, build_record
from resdesk.forms.controls import read_controls
from resdesk.forms.docx_model import DocumentModel, document_model
from resdesk.forms.grid import read_blocks
from resdesk.forms.records import KINDS, FormRecord
from resdesk.forms.safety import main_part
from resdesk.errors import FormError


def _main_part(names: set[str]) -> str:
    """The main document part among a package's entry names (usually word/document.xml)."""
    part = main_part(names)
    if part is None:
        raise FormError("is a zip package without a Word document inside")
    return part


def _merge(tagged: RawForm, laid_out: RawForm) -> RawForm:
    for name, value in laid_out.fields.items():
        tagged.offer(name, value)
    for table, rows in laid_out.rows.items():
        if table not in tagged.rows:
            tagged.rows[table] = rows
    return tagged


def read_model(kind: str, model: DocumentModel) -> RawForm:
    return _merge(read_controls(kind, model.controls), read_blocks(kind, model.blocks))


def guess_kind(model: DocumentModel, read) -> str | None:
    """The kind a document's title names; otherwise the kind whose labels it fills most."""
    kind = labels.kind_from_title(model.first_texts())
    if kind:
        return kind
    scores = {}
    for candidate in KINDS:
        try:
            scores[candidate] = read(candidate).found()
        except FieldProblem:
            scores[candidate] = 1
    best = max(scores, key=scores.get)
    return best if scores[best] >= 2 else None


def read_docx(data: bytes, filename: str | None = None, *, parts: Mapping[str, bytes] | None = None) -> FormRecord:
    """A filled Word form (bytes already checked by ``forms.safety``) as a validated record.
    ``parts`` are the XML parts ``safety.check_docx`` returned for ``data``; without them the
    main document part is unpacked from ``data``."""
    try:
        if parts is not None:
            xml = parts[_main_part(set(parts))]
        else:
            with zipfile.ZipFile(io.BytesIO(data)) as package:
                xml = package.read(_main_part(set(package.namelist())))
    except FormError as exc:
        raise FormError(exc.reason, file=filename) from None
    except (zipfile.BadZipFile, zlib.error, KeyError, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise FormError(f"is not a readable Word file ({exc})", file=filename) from None
    try:
        model = document_model(xml)
    except (etree.LxmlError, ValueError, RecursionError) as exc:
        raise FormError(f"holds a Word document that is not well-formed XML ({exc})", file=filename) from None
    try:
        kind = guess_kind(model, lambda k: read_model(k, model))
        if kind is None:
            raise FormError(
                "holds none of the labels of a Resolution Notice, escalation template, "
                "summary log or stage summary",
                file=filename,
            )
        raw = read_model(kind, model)
    except FieldProblem as problem:
        raise FormError(problem.reason, file=filename, field=problem.field) from None
    return build_record(kind, raw, file=filename)


__all__ = ["read_docx"]
