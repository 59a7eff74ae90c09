"""Real PDF forms saved by other software (pypdf's test files, tests/forms/corpus/LICENSE.pypdf)."""

from __future__ import annotations

from pathlib import Path

import pytest

from resdesk.forms import read_form, read_pdf_fields
from resdesk.errors import FormError

CORPUS = Path(__file__).resolve().parent / "corpus"


@pytest.mark.parametrize(
    "name, expected",
    [
        ("form_acrobatReader.pdf", {"foo": "Bar"}),
        ("form_evince.pdf", {"foo": "bar"}),
        ("libreoffice-form.pdf", {"First Name": "Alice", "First Name_2": "Bob", "gdpr": False}),
        ("pdflatex-forms.pdf", {"Name": "", "Check": False}),
        ("FormTestFromOo.pdf", {"CheckBox1": False, "Text1": "", "Combo1": ""}),
    ],
)
def test_real_forms_are_read(name, expected):
    """GIVEN a form saved by Acrobat Reader, Evince, LibreOffice, OpenOffice or pdfLaTeX
    WHEN its fields are read THEN the values those tools saved come back."""
    fields = read_pdf_fields((CORPUS / name).read_bytes(), name)
    for key, value in expected.items():
        assert fields[key] == value


def test_a_real_form_of_another_kind_is_refused_plainly():
    """GIVEN a real form that is not one of ours WHEN read as a form THEN the error says it has other fields."""
    with pytest.raises(FormError, match="none of a Resolution Notice"):
        read_form((CORPUS / "libreoffice-form.pdf").read_bytes(), "libreoffice-form.pdf")


@pytest.mark.parametrize(
    "name, reason",
    [
        ("crazyones-encrypted-256.pdf", "is a password-protected PDF; ask the sender"),
        # Encrypted with an empty user password: they open for anyone, so they are read (and are no forms).
        ("r2-empty-password.pdf", "is a PDF without form fields"),
        ("r6-user-password.pdf", "is a PDF without form fields"),
    ],
)
def test_encrypted_pdfs_are_read_only_when_they_open_without_a_password(name, reason):
    """GIVEN an encrypted PDF (AES-256 with a password, or RC4/AES with an empty one)
    WHEN read THEN the one needing a password is refused, saying what the sender should do; the ones
    that open for anyone are read (these real files hold no form, and are refused for that)."""
    with pytest.raises(FormError) as caught:
        read_form((CORPUS / name).read_bytes(), name)
    assert reason in caught.value.reason
