"""The files the sample messages carry: filled templates made by the product's own form
writers, and the hostile or odd files agencies' mail really brings.

Every file is made the same way on every run: Word packages are re-zipped with a fixed
timestamp and the author an agency's copy of Word would record.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FIXED_TIME = (2026, 11, 2, 9, 0, 0)
TNEF_FILE = HERE / "one-file.tnef"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"


def _rezip(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = compression
            info.create_system = 0
            package.writestr(info, data)
    return buffer.getvalue()


def _core_properties(xml: bytes, author: str, saved: str) -> bytes:
    text = xml.decode("utf-8")
    text = re.sub(r"<dc:creator>[^<]*</dc:creator>", f"<dc:creator>{author}</dc:creator>", text)
    text = re.sub(r"<cp:lastModifiedBy\s*/>|<cp:lastModifiedBy>[^<]*</cp:lastModifiedBy>",
                  f"<cp:lastModifiedBy>{author}</cp:lastModifiedBy>", text)
    text = re.sub(r"<dc:description>[^<]*</dc:description>", "<dc:description/>", text)
    for tag in ("created", "modified"):
        text = re.sub(rf"(<dcterms:{tag}[^>]*>)[^<]*(</dcterms:{tag}>)", rf"\g<1>{saved}\g<2>", text)
    return text.encode("utf-8")


def as_saved_by(docx: bytes, author: str, saved: str) -> bytes:
    """A Word package re-zipped with a fixed timestamp and ``author`` in its properties."""
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        members = [(info.filename, package.read(info)) for info in package.infolist()]
    members = [
        (name, _core_properties(data, author, saved) if name == "docProps/core.xml" else data)
        for name, data in members
    ]
    return _rezip(members)


def filled_docx(kind: str, record, author: str, saved: str) -> bytes:
    """A Word template of ``kind`` filled with ``record`` by the product's own form writer."""
    from resdesk.forms import fill_docx

    return as_saved_by(fill_docx(kind, record), author, saved)


def filled_pdf(kind: str, record) -> bytes:
    """A PDF form of ``kind`` filled with ``record`` by the product's own form writer."""
    from resdesk.forms import fill_pdf

    return fill_pdf(kind, record)


def typed_form(kind: str, record) -> str:
    """A record as the ``Label: value`` text of its template, by the product's own text writer."""
    from resdesk.forms import email_text

    return email_text(kind, record)


def record(kind: str, **fields):
    """A validated form record of ``kind`` (UK-style dates are read as the forms read them)."""
    from resdesk import forms

    types = {
        "resolution-notice": forms.ResolutionNotice,
        "escalation-concern": forms.EscalationConcern,
        "summary-log": forms.SummaryLog,
        "stage-summary": forms.StageSummary,
    }
    return types[kind].model_validate(fields)


_MACRO_CONTENT_TYPES = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>"""
_RELS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"""
_DOC_RELS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId9" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>"""
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _document(paragraphs: list[str], padding: str = "") -> bytes:
    runs = "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{p}</w:t></w:r></w:p>" for p in paragraphs)
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{_W}"><w:body>'
        f"{runs}{padding}</w:body></w:document>"
    ).encode("utf-8")


def macro_docx() -> bytes:
    """A macro-enabled Word package (``word/vbaProject.bin``) renamed to ``.docx``.

    The VBA project is an inert stand-in that still names the auto-run entry point, as
    the macro documents quarantined from real inboxes do.
    """
    vba = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 24 + b"Attribute VB_Name = \"ThisDocument\"\nSub AutoOpen()\n  Shell \"cmd /c echo sample\"\nEnd Sub\n"
    document = _document(["Stage 2 Summary", "Please enable editing and enable content to view this form."])
    return _rezip([
        ("[Content_Types].xml", _MACRO_CONTENT_TYPES),
        ("_rels/.rels", _RELS),
        ("word/document.xml", document),
        ("word/_rels/document.xml.rels", _DOC_RELS),
        ("word/vbaProject.bin", vba),
    ])


ZIP_BOMB_BYTES = 32 * 1024 * 1024


def zip_bomb_docx() -> bytes:
    """A Word package whose ``word/document.xml`` inflates from about 32 KB to 32 MiB."""
    content_types = _MACRO_CONTENT_TYPES.replace(
        b"application/vnd.ms-word.document.macroEnabled.main+xml",
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    ).replace(b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>', b"")
    head = _document(["Escalation summary (stage 2)"])
    filler = " " * (ZIP_BOMB_BYTES - len(head))
    document = head.replace(b"</w:body>", filler.encode("ascii") + b"</w:body>")
    return _rezip([("[Content_Types].xml", content_types), ("_rels/.rels", _RELS), ("word/document.xml", document)])


def winmail_dat() -> bytes:
    """A TNEF ``winmail.dat`` as Outlook sends it (from the tnefparse project's test files)."""
    return TNEF_FILE.read_bytes()


_FILE_ID = b"resdesk-sample01"


def password_protected_pdf(kind: str, record, password: str) -> bytes:
    """A filled PDF form saved with an open password (RC4, as older office suites save it).

    The file identifier is fixed so the encryption key, and so the bytes, are the same on every
    run; the second identifier, which a writer sets at save time, is fixed afterwards.
    """
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, ByteStringObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(filled_pdf(kind, record))))
    writer._ID = ArrayObject([ByteStringObject(_FILE_ID), ByteStringObject(_FILE_ID)])
    writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    fixed = _FILE_ID.hex().encode("ascii")
    return re.sub(rb"(/ID \[ <[0-9a-f]+> <)[0-9a-f]+(> \])", rb"\g<1>" + fixed + rb"\g<2>", buffer.getvalue())
