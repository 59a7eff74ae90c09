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
