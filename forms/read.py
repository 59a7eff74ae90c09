"""One entry point: bytes and a file name in, a validated form record out.

The type is decided by the content (a ``.docx`` that is really a PDF is read
as a PDF); the safety checks run before any parser sees the bytes; every
problem is a ``FormError`` naming the file, the field and the reason.
"""

from __future__ import annotations

from resdesk.forms import safety
from resdesk.forms.docx_reader import read_docx
from resdesk.forms.pdf_reader import read_pdf
from resdesk.forms.records import FormRecord
from resdesk.forms.text_reader import read_email_text
from resdesk.errors import FormError


def _decode(data: bytes, filename: str | None) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FormError("is a text file that is not UTF-8", file=filename) from None


def read_form(data: bytes, filename: str | None = None, *, max_bytes: int = safety.MAX_FILE_BYTES) -> FormRecord:
    """Read a filled form (Word, PDF or plain text) into its record; ``FormError`` if it cannot be."""
    safety.check_size(data, filename, max_bytes)
    kind = safety.sniff(data, filename)
    if kind == "docx":
        return read_docx(data, filename, parts=safety.check_docx(data, filename))
    if kind == "pdf":
        safety.check_pdf(data, filename)
        return read_pdf(data, filename)
    record = read_email_text(_decode(data, filename), source=filename)
    if record is None:
        raise FormError(
            "holds no form: none of the labels of a Resolution Notice, escalation template, "
            "summary log or stage summary",
            file=filename,
        )
    return record
