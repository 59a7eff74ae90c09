"""Which attachments are documents (possible filled templates), by name, declared type or content.

A Word or PDF file is recognised by what it holds even when its name cannot be decoded, is
missing, or its type is a generic ``application/octet-stream`` (Outlook, secure-mail gateways
and phones all send such parts): a PDF starts ``%PDF-``, a Word 2007+ file is a ZIP holding
``word/document.xml``, an ODF text a ZIP whose ``mimetype`` is ODF text, an RTF starts
``{\\rtf``, and a Word 97-2003 file is an OLE2 compound file holding a ``WordDocument`` stream.
"""

from __future__ import annotations

import io
import zipfile

import olefile

__all__ = ["DOCUMENT_EXTENSIONS", "DOCUMENT_TYPES", "document_extension", "is_document"]

DOCUMENT_EXTENSIONS = (".docx", ".doc", ".docm", ".dotx", ".dot", ".odt", ".rtf", ".pdf")
DOCUMENT_TYPES = {
    "application/pdf", "application/msword", "application/rtf", "text/rtf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-word.document.macroenabled.12",
    "application/vnd.oasis.opendocument.text",
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def document_extension(data: bytes) -> str | None:
    """The file extension (``.pdf``, ``.docx``, ``.docm``, ``.odt``, ``.rtf``, ``.doc``) that
    ``data`` is, by its content; None for anything else. Reads only the ZIP directory or the
    OLE2 directory, never a whole file."""
    head = data[:1024]
    if b"%PDF-" in head:
        return ".pdf"
    if head.startswith(b"{\\rtf"):
        return ".rtf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                if "word/document.xml" in names:
                    return ".docm" if "word/vbaProject.bin" in names else ".docx"
                if "mimetype" in names and archive.read("mimetype")[:64].strip() == b"application/vnd.oasis.opendocument.text":
                    return ".odt"
        except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError):
            return None
        return None
    if head.startswith(_OLE_MAGIC):
        try:
            with olefile.OleFileIO(io.BytesIO(data)) as ole:
                return ".doc" if ole.exists("WordDocument") else None
        except (OSError, ValueError):
            return None
    return None


def is_document(filename: str, content_type: str, data: bytes) -> bool:
    """Whether an attachment may be a filled template: by name, declared type or content."""
    return (
        filename.lower().endswith(DOCUMENT_EXTENSIONS)
        or content_type.lower() in DOCUMENT_TYPES
        or document_extension(data) is not None
    )
