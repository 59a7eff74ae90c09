"""Forms: filled templates (Word, PDF, email text) as validated records; blank templates out.

    read_form(data, filename) -> FormRecord      a Word, PDF or text file, type sniffed from content
    read_email_text(text) -> FormRecord | None   labels typed into an email body
    email_text(kind, record) -> str              a record as the text read_email_text reads
    blank_docx(kind) / blank_pdf(kind) -> bytes  fillable templates named by field
    fill_docx(kind, record) / fill_pdf(kind, record) -> bytes

Every problem is a ``resdesk.errors.FormError`` naming the file, the field and
the reason. Kinds and field names are PRODUCT §6.
"""

from resdesk.forms.layout import LEVEL_DISPLAY
from resdesk.forms.pdf_reader import read_pdf_fields
from resdesk.forms.read import read_form
from resdesk.forms.records import (
    KINDS,
    ActionTaken,
    AgreedAction,
    EscalationConcern,
    FormRecord,
    LogEntry,
    ResolutionNotice,
    StageSummary,
    SummaryLog,
)
from resdesk.forms.text_reader import read_email_text
from resdesk.forms.text_writer import email_text
from resdesk.forms.values import LEVELS_OF_NEED, age_on, nhs_check_digit_ok

__all__ = [
    "KINDS",
    "age_on",
    "LEVELS_OF_NEED",
    "LEVEL_DISPLAY",
    "ActionTaken",
    "AgreedAction",
    "EscalationConcern",
    "FormRecord",
    "LogEntry",
    "ResolutionNotice",
    "StageSummary",
    "SummaryLog",
    "blank_docx",
    "email_text",
    "blank_pdf",
    "fill_docx",
    "fill_pdf",
    "nhs_check_digit_ok",
    "read_email_text",
    "read_form",
    "read_pdf_fields",
]


def __getattr__(name: str):
    """The template writers (``blank_docx``, ``blank_pdf``, ``fill_docx``, ``fill_pdf``) on first use:
    they load python-docx and pypdf, which a process that only reads forms (the intake reader) never needs."""
    if name in ("blank_docx", "blank_pdf", "fill_docx", "fill_pdf"):
        from resdesk.forms import blank

        return getattr(blank, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
