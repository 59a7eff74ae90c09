"""One function per document the product sends: a view in, the file's bytes out."""

from __future__ import annotations

from .html import render_pdf
from .views import (
    AcknowledgementView,
    EscalationConcernView,
    NoticeView,
    ReminderView,
    ResolutionNoticeView,
)
from .word import render_docx

__all__ = [
    "render_acknowledgement",
    "render_notice",
    "render_notice_docx",
    "render_reminder",
    "render_resolution_notice",
    "render_resolution_notice_docx",
    "render_escalation_concern",
    "render_subject_access_index",
]


def render_acknowledgement(view: AcknowledgementView) -> bytes:
    """PDF acknowledgement of a recorded message."""
    return render_pdf("acknowledgement.html", view)


def render_notice(view: NoticeView) -> bytes:
    """PDF stage-entry notice (stage 3 notification, stage 4 account, IRO notice…)."""
    return render_pdf("notice.html", view)


def render_notice_docx(view: NoticeView) -> bytes:
    """Editable Word copy of a stage-entry notice."""
    return render_docx("notice_letter.docx", view)


def render_reminder(view: ReminderView) -> bytes:
    """PDF reminder before a due time, or overdue alert after it."""
    return render_pdf("reminder.html", view)


def render_resolution_notice(view: ResolutionNoticeView) -> bytes:
    """PDF of Oldham's Resolution Notice (Appendix 2), pre-filled."""
    return render_pdf("resolution_notice.html", view)


def render_resolution_notice_docx(view: ResolutionNoticeView) -> bytes:
    """Editable Word Resolution Notice (Oldham Appendix 2 layout), pre-filled."""
    return render_docx("resolution_notice.docx", view)


def render_escalation_concern(view: EscalationConcernView) -> bytes:
    """PDF of Sandwell's escalation template (Appendix 3), pre-filled for the business unit."""
    return render_pdf("escalation_concern.html", view)


def render_subject_access_index(view: dict) -> bytes:
    """The index of a subject access export as PDF: the child, and per case every file with its SHA-256.

    ``view``: partnership, child_name, child_dob (date), child_identifier, searched_by, exported_at
    (aware datetime), cases: [{ref, protocol, status, events, files: [{kind, at, path, sha256}]}]."""
    return render_pdf("subject_access_index.html", view)
