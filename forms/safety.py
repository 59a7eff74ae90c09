"""Checks made before any parser touches a file's bytes.

A form is small: a few pages of text. Anything far bigger, any Word package
that unpacks into much more than it holds, carries macros or ActiveX, declares
a DOCTYPE (entity expansion), or has odd path names is refused here, each with
its own reason. The type of a file is decided by its content, never its name.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
import zlib

from resdesk.errors import FormError, HostileFile

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ZIP_ENTRIES = 300
MAX_UNPACKED_BYTES = 40 * 1024 * 1024
MAX_ENTRY_BYTES = 20 * 1024 * 1024
# The XML parts are parsed into trees several times their size; a form's are well under 1 MB.
MAX_XML_BYTES = 8 * 1024 * 1024
# Ordinary Word XML compresses 5-20 times; a zip bomb, thousands of times.
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_ABOVE = 256 * 1024

_MACRO_CONTENT = re.compile(r"macroEnabled|vbaProject|vbaData|ms-office\.activeX", re.IGNORECASE)
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTENT_TYPES = "[Content_Types].xml"

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OTHER_TYPES = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"{\\rtf", "an RTF document (save it as .docx)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
)


def check_size(data: bytes, filename: str | None, limit: int = MAX_FILE_BYTES) -> None:
    if len(data) > limit:
        raise FormError(
            f"is {len(data):,} bytes, more than the {limit:,} a form may be", file=filename
        )
    if not data:
        raise FormError("is empty", file=filename)


def sniff(data: bytes, filename: str | None = None) -> str:
    """``docx``, ``pdf`` or ``text``, from the bytes; anything else is refused with what it is."""
    head = data[:1024]
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "docx"
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(OLE2):
        raise FormError(
            "is a Word 97-2003 document or a password-protected Word file; save it as a .docx "
            "without a password",
            file=filename,
        )
    for magic, what in _OTHER_TYPES:
        if head.startswith(magic):
            raise FormError(f"is {what}, not a Word, PDF or text form", file=filename)
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FormError("is a binary file of unknown type, not a Word, PDF or text form", file=filename)
    if head.lstrip().lower().startswith((b"<!doctype html", b"<html")):
        raise FormError("is a web page (HTML), not a Word, PDF or text form", file=filename)
    return "text"


def _bad_name(name: str) -> str | None:
    if "\x00" in name:
        return "holds a NUL character"
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "is an absolute path"
    if "\\" in name:
        return "uses backslashes"
    if any(part == ".." for part in name.split("/")):
        return "climbs out of the package ('..')"
    return None


# XML's own encoding detection (XML 1.0 Appendix F): byte-order marks, then the first
# characters "<?" as UTF-32 or UTF-16 without a mark.
_XML_ENCODINGS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"), (b"\xef\xbb\xbf", "utf-8"),
    (b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"),
)
_DECLARED = re.compile(r"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)", re.IGNORECASE)
_ALLOWED_DECLARED = {"utf-8", "utf8", "utf-16", "utf-16le", "utf-16be", "utf-32", "utf-32le", "utf-32be"}
_DOCTYPE_TEXT = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _xml_encoding(head: bytes) -> str:
    """The encoding an XML parser reads a part in, from its first four bytes (XML 1.0 Appendix F)."""
    for mark, name in _XML_ENCODINGS:
        if head.startswith(mark):
            return name
    return "utf-8"


def _check_declared(text: str, part: str, filename: str | None) -> None:
    declared = _DECLARED.match(text[:200].lstrip("\ufeff"))
    if declared and declared.group(1).lower() not in _ALLOWED_DECLARED:
        raise HostileFile(
            f"holds {part} declared as {declared.group(1)}, an encoding no Word file uses", file=filename
        )


def xml_text(content: bytes, part: str, filename: str | None = None) -> str:
    """An XML part decoded as an XML parser would decode it (UTF-8, UTF-16 or UTF-32, with or
    without a byte-order mark). A part that declares any other encoding (UTF-7, EBCDIC…, which
    could hide markup from a check on the bytes) or cannot be decoded is refused."""
    encoding = _xml_encoding(content)
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError:
        raise FormError(f"holds {part}, which is not valid {encoding.upper()} text", file=filename) from None
    _check_declared(text, part, filename)
    return text


def _check_text(text: str, part: str, filename: str | None) -> None:
    if "!" in text and _DOCTYPE_TEXT.search(text):  # no "<!", no declaration: the search is skipped
        raise HostileFile(
            f"declares a DOCTYPE or entity in {part}, which no Word file needs (an entity-expansion attack)",
            file=filename,
        )


# What may come before an XML document's root element (XML 1.0 §2.8, ``prolog``): white space, the
# XML declaration and other processing instructions, comments, and the one document type
# declaration, which is where any entity is declared (§4.2). A part is unpacked only that far when
# nothing reads the rest of it.
_PROLOG = re.compile(r"\ufeff?(?:[ \t\r\n]+|<\?[A-Za-z_:][^\s?<>]*(?:[ \t\r\n].*?)?\?>|<!--.*?-->)*", re.DOTALL)
_ROOT_START = re.compile(r"<[^\s!?<>/=\"']")
PROLOG_CHUNK = 4096  # bytes unpacked at a time while looking for the root element
PROLOG_MOST = 8 * 1024  # a prolog longer than this (a Word part's is its XML declaration) is checked whole instead


def _checked_to_root(stream: zipfile.ZipExtFile, part: str, filename: str | None) -> bytes | None:
    """Unpack an XML part no reader parses only as far as its root element's start tag: None when
    white space, the XML declaration, processing instructions and comments alone came before it (no
    DOCTYPE, so no entity), its declared encoding one a Word file uses.

    Otherwise (anything else before the root, a part that ends first, a prolog of over ``PROLOG_MOST``
    bytes) the whole part's bytes, for the check of its whole text. A flaw further in (bad bytes, a
    damaged deflate stream, a wrong CRC) is not seen: nothing reads that far. Raises HostileFile (a
    foreign declared encoding) or FormError (bytes not valid in the part's encoding)."""
    content = chunk = stream.read(PROLOG_CHUNK)
    encoding = _xml_encoding(content)
    decoder = codecs.getincrementaldecoder(encoding)()
    text, scanned = "", 0  # the prolog's items up to ``scanned`` are whole: each chunk goes on from there
    while True:
        ended = len(chunk) < PROLOG_CHUNK  # ZipExtFile.read(n) is short only at the part's end
        try:
            text += decoder.decode(chunk, final=ended)
        except UnicodeDecodeError:
            raise FormError(f"holds {part}, which is not valid {encoding.upper()} text", file=filename) from None
        _check_declared(text, part, filename)
        scanned = _PROLOG.match(text, scanned).end()
        rest = text[scanned:]
        if _ROOT_START.match(rest):
            return None
        unfinished = not rest or rest.startswith(("<?", "<!--")) or "<!--".startswith(rest)
        if ended or not unfinished or len(content) > PROLOG_MOST:
            return content + stream.read(MAX_ENTRY_BYTES + 1 - len(content))
        chunk = stream.read(PROLOG_CHUNK)
        content += chunk


def _count_entries_from_the_end(data: bytes, filename: str | None) -> None:
    """Refuse a ZIP64 package, or one that declares over-many entries, from its end records alone,
    before ``zipfile`` reads (and allocates for) its central directory."""
    tail = data[-(65_536 + 22):]
    if b"PK\x06\x06" in tail or b"PK\x06\x07" in tail:
        raise HostileFile("is a ZIP64 package, which no Word form needs (a zip bomb, or not a form)", file=filename)
    end = tail.rfind(b"PK\x05\x06")
    if end != -1 and len(tail) >= end + 12:
        declared = int.from_bytes(tail[end + 10 : end + 12], "little")
        if declared > MAX_ZIP_ENTRIES:
            raise HostileFile(
                f"is a zip package of {declared} entries, more than the {MAX_ZIP_ENTRIES} a Word form has",
                file=filename,
            )


def _has_zip64_field(extra: bytes) -> bool:
    i = 0
    while i + 4 <= len(extra):
        kind, size = int.from_bytes(extra[i : i + 2], "little"), int.from_bytes(extra[i + 2 : i + 4], "little")
        if kind == 0x0001:
            return True
        i += 4 + size
    return False


def _zip64(entry: zipfile.ZipInfo, data: bytes) -> bool:
    """ZIP64 in the central directory or in the entry's local header (which may differ)."""
    if entry.file_size >= 0xFFFFFFFF or entry.compress_size >= 0xFFFFFFFF or _has_zip64_field(entry.extra):
        return True
    local = data[entry.header_offset : entry.header_offset + 30]
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        return False
    name_length = int.from_bytes(local[26:28], "little")
    extra_length = int.from_bytes(local[28:30], "little")
    start = entry.header_offset + 30 + name_length
    return _has_zip64_field(data[start : start + extra_length])


def main_part(names: set[str]) -> str | None:
    """The main document part among a Word package's entry names (usually word/document.xml); None
    if it has none."""
    if "word/document.xml" in names:
        return "word/document.xml"
    return min((n for n in names if n.startswith("word/") and n.endswith(".xml") and "document" in n), default=None)


def check_docx(data: bytes, filename: str | None = None) -> dict[str, bytes]:
    """The zip pre-check of a Word package: size, entries, ZIP64, encryption, names, macros, and
    a DOCTYPE or entity in any XML part (``.xml``, ``.rels``, ``.vml``) after decoding it
    (UTF-8/16/32, with or without a BOM).

    The parts a reader parses (the main document part, ``main_part``, and ``[Content_Types].xml``)
    are unpacked and checked whole, and returned (entry name -> bytes, the last entry of a repeated
    name winning as in ``zipfile``), so the reader parses the bytes that were checked without unpacking
    them again. Every other XML part is unpacked only as far as its root element (a DOCTYPE may stand
    only before it, XML 1.0 §2.8): a form's styles run to hundreds of kilobytes nothing reads.
    Raises HostileFile or FormError with the reason."""
    _count_entries_from_the_end(data, filename)
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        entries = package.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise HostileFile(f"is a truncated or damaged Word file ({exc})", file=filename) from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise HostileFile(
            f"is a zip package of {len(entries)} entries, more than the {MAX_ZIP_ENTRIES} a Word form has",
            file=filename,
        )
    total = 0
    names = set()
    for entry in entries:
        problem = _bad_name(entry.filename)
        if problem:
            raise HostileFile(f"holds a package entry whose name {problem} ({entry.filename!r})", file=filename)
        if entry.flag_bits & 0x1:
            raise HostileFile(f"holds an encrypted package entry ({entry.filename})", file=filename)
        if _zip64(entry, data):
            raise HostileFile(
                f"holds a ZIP64 entry ({entry.filename}), which no Word form needs (a zip bomb, or not a form)",
                file=filename,
            )
        total += entry.file_size
        if entry.file_size > MAX_ENTRY_BYTES or total > MAX_UNPACKED_BYTES:
            raise HostileFile(
                f"would unpack to more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MB (a zip bomb, or not a form)",
                file=filename,
            )
        if entry.file_size > RATIO_CHECK_ABOVE and entry.file_size > MAX_COMPRESSION_RATIO * max(entry.compress_size, 1):
            raise HostileFile(
                f"holds {entry.filename} compressed more than {MAX_COMPRESSION_RATIO} times over "
                "(a zip bomb)",
                file=filename,
            )
        lowered = entry.filename.lower()
        if lowered.endswith(("vbaproject.bin", "vbadata.xml")):
            raise HostileFile(
                f"is a macro-enabled Word file (it holds a macro project, {entry.filename}), whatever "
                "its name says; save it as a plain .docx",
                file=filename,
            )
        if "/activex/" in f"/{lowered}":
            raise HostileFile("holds ActiveX controls; save it as a plain .docx", file=filename)
        names.add(entry.filename)
    if _CONTENT_TYPES not in names or not any(n.startswith("word/") for n in names):
        raise FormError("is a zip file, not a Word document", file=filename)
    parsed = {_CONTENT_TYPES, main_part(names)}
    checked: dict[str, bytes] = {}
    try:
        for entry in entries:
            if not entry.filename.lower().endswith((".xml", ".rels", ".vml")):
                continue
            if entry.file_size > MAX_XML_BYTES:
                raise FormError(
                    f"holds {entry.filename} of {entry.file_size:,} bytes, more XML than a form has",
                    file=filename,
                )
            with package.open(entry) as stream:
                if entry.filename in parsed:
                    content = stream.read(MAX_ENTRY_BYTES + 1)
                else:
                    content = _checked_to_root(stream, entry.filename, filename)
                    if content is None:
                        continue
            text = xml_text(content, entry.filename, filename)
            _check_text(text, entry.filename, filename)
            if entry.filename == _CONTENT_TYPES and _MACRO_CONTENT.search(text):
                raise HostileFile(
                    "is a macro-enabled Word file (its content types declare macros), whatever its "
                    "name says; save it as a plain .docx",
                    file=filename,
                )
            if entry.filename in parsed:
                checked[entry.filename] = content
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise FormError(f"is a truncated or damaged Word file ({exc})", file=filename) from None
    return checked


def check_pdf(data: bytes, filename: str | None = None) -> None:
    """A PDF must end as PDFs do; a truncated one is refused before parsing."""
    if b"%%EOF" not in data[-2048:]:
        raise FormError("is a truncated PDF (it does not end with %%EOF)", file=filename)
