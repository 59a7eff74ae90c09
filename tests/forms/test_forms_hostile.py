"""The hostile corpus: each file refused with its own specific reason, no crash, memory bounded."""

from __future__ import annotations

import tracemalloc

import pytest

from resdesk.forms import read_form
from hostile_corpus import hostile_files
from resdesk.errors import FormError

CASES = hostile_files()
MEMORY_CEILING = 64 * 1024 * 1024


def test_corpus_is_at_least_fifteen_distinct_reasons():
    assert len(CASES) >= 15
    assert len({case.reason for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_file_is_refused_with_its_reason(case):
    """GIVEN a hostile or broken file
    WHEN it is read
    THEN a FormError names the file, the field where there is one, and the specific reason,
    and the reader's Python allocations stay under a fixed ceiling."""
    tracemalloc.start()
    try:
        with pytest.raises(FormError) as caught:
            read_form(case.data, case.name)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    error = caught.value
    assert case.reason in error.reason
    assert error.file == case.name
    assert error.field == case.field
    assert case.name in str(error)
    assert peak < MEMORY_CEILING


def test_each_reason_matches_only_its_own_file():
    """GIVEN all hostile files WHEN read THEN no two are refused for the same reason."""
    reasons = {}
    for case in CASES:
        with pytest.raises(FormError) as caught:
            read_form(case.data, case.name)
        reasons[case.name] = caught.value.reason
    assert len(set(reasons.values())) == len(reasons)


def test_a_form_encrypted_with_an_empty_password_is_read_and_flagged():
    """GIVEN a filled Resolution Notice PDF encrypted with an owner password only (it opens for anyone),
    and a real RC4 file of the same kind WHEN read THEN the form's values are read and the record is
    flagged as encrypted with an empty password; the RC4 file opens too (it is simply not a form)."""
    from hostile_corpus import CORPUS, encrypted_with_empty_password
    from make_samples import RECORDS

    from resdesk.forms import fill_pdf
    from resdesk.forms.pdf_reader import EMPTY_PASSWORD_FLAG

    plain = fill_pdf("resolution-notice", RECORDS["resolution-notice"])
    form = read_form(encrypted_with_empty_password(plain), "notice.pdf")
    assert form.fields == read_form(plain, "notice.pdf").fields
    assert form.flags == (EMPTY_PASSWORD_FLAG,)
    assert read_form(plain, "notice.pdf").flags == ()
    with pytest.raises(FormError, match="without form fields"):
        read_form((CORPUS / "r2-empty-password.pdf").read_bytes(), "r2.pdf")


def _notice_docx() -> bytes:
    from make_samples import RECORDS

    from resdesk.forms import fill_docx

    return fill_docx("resolution-notice", RECORDS["resolution-notice"])


_STYLES_ROOT = '<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>'


@pytest.mark.parametrize("prolog, encoding", [
    ('<?xml version="1.0"?>' + "<!--" + "x" * 9000 + "-->\n" + '<!DOCTYPE s [<!ENTITY e "e">]>', "utf-8"),
    ('<?xml version="1.0"?>' + "\n" * 4095 + "<!DOCTYPE s [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>", "utf-8"),
    ("<?pi " + "y" * 2500 + "?>" + "<!--a--><!-- b -->" + '<!DOCTYPE s [<!ENTITY e "e">]>', "utf-16-le"),
    ("<!--" + "é" * 1500 + "-->" + '<!DOCTYPE s [<!ENTITY e "e">]>', "utf-32-be"),
    ("<?<!DOCTYPE a [<!ENTITY e 'x'>]><?p ?>", "utf-8"),
], ids=["after-a-long-comment", "across-the-first-chunk", "utf16-after-a-long-instruction", "utf32-after-accents",
        "inside-an-instruction-without-a-target"])
def test_a_doctype_in_a_part_no_reader_parses_is_found_however_far_its_prolog_runs(prolog, encoding):
    """GIVEN a Word form whose styles part (which no reader parses, so only its prolog is unpacked)
    declares a DOCTYPE after a prolog longer than one unpacked chunk (or longer than the scan goes, so
    the part is checked whole), in UTF-8, UTF-16 or UTF-32, or inside what only looks like a processing
    instruction WHEN read THEN it is refused for the DOCTYPE in that part."""
    from hostile_corpus import _rezip, _xml_encoded

    styles = (prolog + _STYLES_ROOT).encode() if encoding == "utf-8" else _xml_encoded(prolog + _STYLES_ROOT, encoding, False)
    with pytest.raises(FormError, match=r"DOCTYPE or entity in word/styles\.xml"):
        read_form(_rezip(_notice_docx(), replace={"word/styles.xml": styles}), "notice.docx")


def _damaged_after(docx: bytes, part: str, offset: int) -> bytes:
    """``docx`` with ``part`` stored unpacked and one of its bytes past ``offset`` changed (its CRC no
    longer matches: only reading the part to its end finds that)."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, source.read(item.filename),
                            compress_type=zipfile.ZIP_STORED if item.filename == part else zipfile.ZIP_DEFLATED)
    data = bytearray(out.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as package:
        entry = package.getinfo(part)
        start = entry.header_offset + 30 + len(entry.filename.encode()) + len(entry.extra)
    position = data.index(b">", start + offset)  # a markup character, so the text stays valid
    data[position : position + 1] = b" "
    return bytes(data)


def test_a_flaw_deep_in_a_part_no_reader_parses_does_not_block_the_form():
    """GIVEN a Word form whose styles part is damaged past its root element (its CRC fails), and the
    same damage in its main document part WHEN each is read THEN the first is read as the undamaged
    form is (that part is unpacked only up to its root), and the second is refused as damaged."""
    docx = _notice_docx()
    styles = _damaged_after(docx, "word/styles.xml", 20_000)
    assert read_form(styles, "notice.docx").fields == read_form(docx, "notice.docx").fields
    with pytest.raises(FormError, match="truncated or damaged Word file"):
        read_form(_damaged_after(docx, "word/document.xml", 2_000), "notice.docx")
