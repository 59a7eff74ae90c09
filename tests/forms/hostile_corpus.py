"""The hostile corpus: files a form reader must refuse, each for its own reason.

Built in memory from our own filled samples and the real encrypted PDFs in
tests/forms/corpus/, so nothing large is committed. To look at them:

    python tests/forms/hostile_corpus.py OUTDIR
"""

from __future__ import annotations

import io
import struct
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from resdesk.forms import fill_docx, fill_pdf  # noqa: E402

CORPUS = HERE / "corpus"
SAMPLES = HERE.parents[1] / "samples" / "forms"


@dataclass(frozen=True)
class Hostile:
    name: str
    data: bytes
    reason: str  # a fragment of the reason it must be refused with
    field: str | None = None


def _rezip(base: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = (replace or {}).get(item.filename, source.read(item.filename))
            target.writestr(item.filename, data)
        for name, data in (add or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def _forge_sizes(data: bytes, size: int) -> bytes:
    """Rewrite every central-directory entry to claim ``size`` unpacked bytes."""
    buffer = bytearray(data)
    position = buffer.find(b"PK\x01\x02")
    while position != -1:
        struct.pack_into("<I", buffer, position + 24, size)
        position = buffer.find(b"PK\x01\x02", position + 4)
    return bytes(buffer)


def _replace_text(docx: bytes, old: str, new: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        xml = package.read("word/document.xml").decode("utf-8")
    assert old in xml, old
    return _rezip(docx, replace={"word/document.xml": xml.replace(old, new).encode("utf-8")})


def _pdf_with(pdf: bytes, change) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _add_xfa(writer) -> None:
    from pypdf.generic import ArrayObject, NameObject, StreamObject, TextStringObject

    stream = StreamObject()
    stream.set_data(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'><template/></xdp:xdp>")
    form = writer._root_object["/AcroForm"].get_object()
    form[NameObject("/XFA")] = ArrayObject([TextStringObject("template"), writer._add_object(stream)])


def _duplicate_child_name(writer) -> None:
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    form = writer._root_object["/AcroForm"].get_object()
    page = writer.pages[0]
    original = next(f.get_object() for f in form["/Fields"] if f.get_object().get("/T") == "child_name")
    twin = DictionaryObject(original)  # a second field object with the same name
    twin[NameObject("/V")] = TextStringObject("Someone Else")
    ref = writer._add_object(twin)
    form["/Fields"].append(ref)
    page["/Annots"].append(ref)


def _plain_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _incompressible_xml(size: int) -> bytes:
    """XML of ``size`` bytes that zip cannot shrink much (so it is not refused as a zip bomb)."""
    import base64
    import random

    noise = base64.b64encode(random.Random(7).randbytes(size * 3 // 4))
    return b"<a>" + noise[: size - 7] + b"</a>"


def _many_fields_pdf(count: int) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    fields = ArrayObject()
    for number in range(count):
        fields.append(writer._add_object(DictionaryObject({
            NameObject("/T"): TextStringObject(f"f{number}"),
            NameObject("/FT"): NameObject("/Tx"),
        })))
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject({NameObject("/Fields"): fields})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _deep_docx(base: bytes, depth: int) -> bytes:
    inner = "<w:p/>"
    for _ in range(depth):
        inner = f"<w:sdt><w:sdtContent>{inner}</w:sdtContent></w:sdt>"
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><w:document '
        'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{inner}</w:body></w:document>"
    )
    return _rezip(base, replace={"word/document.xml": xml.encode()})


def _xml_encoded(xml: str, encoding: str, bom: bool) -> bytes:
    """``xml`` in UTF-16 or UTF-32 (big- or little-endian), with or without a byte-order mark."""
    data = xml.encode(encoding)
    marks = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-32-le": b"\xff\xfe\x00\x00", "utf-32-be": b"\x00\x00\xfe\xff"}
    return (marks[encoding] if bom else b"") + data


def _zip64_docx(base: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            with target.open(item.filename, "w", force_zip64=True) as entry:
                entry.write(source.read(item.filename))
    return out.getvalue()


def _many_entries_declared(base: bytes, count: int) -> bytes:
    """The end-of-directory record claims ``count`` entries (a directory too big to read)."""
    buffer = bytearray(base)
    end = buffer.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", buffer, end + 8, count, count)
    return bytes(buffer)


def _circular_xref(pdf: bytes) -> bytes:
    """An incremental update whose trailer's /Prev is its own cross-reference table."""
    from pypdf import PdfReader

    root = PdfReader(io.BytesIO(pdf)).trailer.raw_get("/Root")
    size = PdfReader(io.BytesIO(pdf)).trailer["/Size"]
    offset = len(pdf)
    update = (
        f"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size {size} /Root {root.idnum} 0 R /Prev {offset} >>\n"
        f"startxref\n{offset}\n%%EOF\n"
    ).encode()
    return pdf + update


def _outline_loop(writer) -> None:
    from pypdf.generic import NameObject

    first = writer.add_outline_item(title="Child", page_number=0)
    second = writer.add_outline_item(title="Actions", page_number=0)
    second.get_object()[NameObject("/Next")] = first.indirect_reference if hasattr(first, "indirect_reference") else first


def _page_loop(writer) -> None:
    from pypdf.generic import NameObject

    pages = writer._root_object["/Pages"]
    pages.get_object()["/Kids"].append(pages.indirect_reference if hasattr(pages, "indirect_reference") else pages)


def _field_loop(writer) -> None:
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

    form = writer._root_object["/AcroForm"].get_object()
    parent = DictionaryObject({NameObject("/T"): TextStringObject("loop")})
    ref = writer._add_object(parent)
    parent[NameObject("/Kids")] = ArrayObject([ref])
    form["/Fields"].append(ref)


def encrypted_with_empty_password(pdf: bytes) -> bytes:
    """``pdf`` encrypted so that it opens without a password (an owner password only)."""
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def hostile_files() -> list[Hostile]:
    sys.path.insert(0, str(HERE))
    from make_samples import RECORDS

    notice = RECORDS["resolution-notice"]
    concern = RECORDS["escalation-concern"]
    docx = fill_docx("resolution-notice", notice)
    pdf = fill_pdf("resolution-notice", notice)
    seed_docx = (SAMPLES / "escalation-concern" / "seed-table.docx").read_bytes()
    macro_types = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        b'<Default Extension="xml" ContentType="application/xml"/>'
        b'<Override PartName="/word/document.xml" '
        b'ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>'
    )
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>"
    )
    external = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">&x;</Relationships>'
    )
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as package:
        for number in range(1200):
            package.writestr(f"word/media/part{number}.xml", b"<a/>")
    traversal = _rezip(docx, add={"../../outside.xml": b"<a/>"})
    absolute = _rezip(docx, add={"/etc/cron.d/form.xml": b"<a/>"})
    two_ticks = _replace_text(
        seed_docx, "☐ Child in Care", "☒ Child in Care"
    )
    email_with_us_date = (SAMPLES / "resolution-notice" / "email.txt").read_text().replace(
        "Date of Notification: 14 March 2025", "Date of Notification: 03/14/2025"
    )
    email_with_bad_address = (SAMPLES / "escalation-concern" / "email.txt").read_text().replace(
        "helen.osei@healthtrust.example", "helen.osei at healthtrust"
    )
    bad_nhs = _replace_text(
        (SAMPLES / "resolution-notice" / "seed-table.docx").read_bytes(), "943 476 5919", "943 476 5918"
    )
    letter = io.BytesIO()
    from docx import Document

    document = Document()
    document.add_paragraph("Dear colleague, thank you for your call today. Best wishes.")
    document.save(letter)
    return [
        Hostile("zip-bomb.docx", _rezip(docx, add={"word/padding.xml": b" " * 6_000_000}), "zip bomb"),
        Hostile("huge-xml.docx", _rezip(docx, add={"word/glossary.xml": _incompressible_xml(8_600_000)}),
                "more XML than a form has"),
        Hostile("zip-forged-size.docx", _forge_sizes(docx, 900_000_000), "would unpack to more than"),
        Hostile("zip-many-entries.docx", many.getvalue(), "entries, more than"),
        Hostile("zip-path-traversal.docx", traversal, "climbs out of the package"),
        Hostile("zip-absolute-path.docx", absolute, "is an absolute path"),
        Hostile("macro-renamed.docx", _rezip(docx, replace={"[Content_Types].xml": macro_types},
                                             add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0 macro"}), "holds a macro project"),
        Hostile("macro-content-type.docx", _rezip(docx, replace={"[Content_Types].xml": macro_types}), "content types declare macros"),
        Hostile("activex.docx", _rezip(docx, add={"word/activeX/activeX1.xml": b"<ax/>"}), "ActiveX"),
        Hostile("billion-laughs.docx", _rezip(docx, replace={"word/document.xml": laughs}), "DOCTYPE or entity in word/document.xml"),
        Hostile("external-entity.docx", _rezip(docx, replace={"_rels/.rels": external}), "DOCTYPE or entity in _rels/.rels"),
        Hostile("truncated.docx", docx[: len(docx) // 2], "truncated or damaged Word file"),
        Hostile("word97-renamed.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000, "Word 97-2003"),
        Hostile("picture-renamed.docx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "PNG image"),
        Hostile("not-a-form.docx", letter.getvalue(), "holds none of the labels"),
        Hostile("two-levels-ticked.docx", two_ticks, "more than one level of need is ticked", "current_level_of_need"),
        Hostile("invalid-nhs-number.docx", bad_nhs, "not a valid NHS number", "child_identifier"),
        Hostile("us-date.txt", email_with_us_date.encode(), "there is no month 14", "notification_date"),
        Hostile("bad-email.txt", email_with_bad_address.encode(), "not an e-mail address", "raised_by_email"),
        Hostile("aes-password.pdf", (CORPUS / "crazyones-encrypted-256.pdf").read_bytes(), "password-protected PDF"),
        Hostile("doctype-utf16le-no-bom.docx", _rezip(docx, add={"word/header9.xml": _xml_encoded(laughs.decode(), "utf-16-le", False)}),
                "DOCTYPE or entity in word/header9.xml"),
        Hostile("doctype-utf16be-no-bom.docx", _rezip(docx, add={"word/_rels/header9.xml.rels": _xml_encoded(external.decode(), "utf-16-be", False)}),
                "DOCTYPE or entity in word/_rels/header9.xml.rels"),
        Hostile("doctype-utf32le-bom.docx", _rezip(docx, replace={"word/styles.xml": _xml_encoded(laughs.decode(), "utf-32-le", True)}),
                "DOCTYPE or entity in word/styles.xml"),
        Hostile("doctype-utf32be-no-bom.docx", _rezip(docx, replace={"word/settings.xml": _xml_encoded(laughs.decode(), "utf-32-be", False)}),
                "DOCTYPE or entity in word/settings.xml"),
        Hostile("utf7-declared.docx", _rezip(docx, replace={"word/document.xml": b'<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE x+AD4-<a/>'}),
                "declared as UTF-7"),
        Hostile("zip64.docx", _zip64_docx(docx), "ZIP64"),
        Hostile("zip-directory-claims-60000-entries.docx", _many_entries_declared(docx, 60_000), "60000 entries"),
        Hostile("circular-xref.pdf", _circular_xref(pdf), "cross-reference chain leads back on itself"),
        Hostile("outline-loop.pdf", _pdf_with(pdf, _outline_loop), "outline (bookmarks) leads back"),
        Hostile("page-tree-loop.pdf", _pdf_with(pdf, _page_loop), "page tree contains itself"),
        Hostile("field-loop.pdf", _pdf_with(pdf, _field_loop), "form field that contains itself"),
        Hostile("duplicate-field-names.pdf", _pdf_with(pdf, _duplicate_child_name), "two form fields with one name", "child_name"),
        Hostile("xfa-form.pdf", _pdf_with(pdf, _add_xfa), "XFA form"),
        Hostile("truncated.pdf", pdf[: len(pdf) // 2], "truncated PDF"),
        Hostile("no-fields.pdf", _plain_pdf(), "without form fields"),
        Hostile("oversized.pdf", b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024 + 1), "a form may be"),
        Hostile("empty.docx", b"", "is empty"),
        Hostile("many-fields.pdf", _many_fields_pdf(3000), "too many form fields"),
        Hostile("deeply-nested.docx", _deep_docx(docx, 3000), "not well-formed XML"),
    ]


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile")
    target.mkdir(parents=True, exist_ok=True)
    for case in hostile_files():
        (target / case.name).write_bytes(case.data)
    print(f"wrote {target}")
