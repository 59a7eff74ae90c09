"""Render: the documents people see — PDF letters, notices, auditor records, Word copies.

Every renderer is a pure function from a view (``render.views``) to bytes.
PDFs come from sandboxed Jinja2 HTML templates through WeasyPrint with a URL
fetcher that serves only the product's packaged assets (``render.fetcher``);
Word documents come from docxtpl templates rendered in the same sandbox.
"""

from .fetcher import ASSET_BASE_URL, ASSET_SCHEME, AssetFetcher, RefusedURL, asset_url
from .html import ARCHIVE_VARIANT, html_environment, html_to_pdf, render_case_record, render_html, render_pdf
from .documents import (
    render_acknowledgement,
    render_escalation_concern,
    render_notice,
    render_notice_docx,
    render_reminder,
    render_resolution_notice,
    render_resolution_notice_docx,
)
from .views import (
    NOTICE_KINDS,
    AcknowledgementView,
    ActionRow,
    CaseRecordView,
    ChildDetails,
    DeadlineRow,
    DocumentRow,
    EscalationConcernView,
    EventRow,
    Letter,
    MessageRow,
    NoticeView,
    Party,
    RecordedItem,
    ReminderView,
    ResolutionNoticeView,
    StageRow,
    TimelineRow,
)
from .word import WORD_TEMPLATES, render_docx, word_environment

__all__ = [
    "ARCHIVE_VARIANT",
    "ASSET_BASE_URL",
    "ASSET_SCHEME",
    "AcknowledgementView",
    "ActionRow",
    "AssetFetcher",
    "CaseRecordView",
    "ChildDetails",
    "DeadlineRow",
    "DocumentRow",
    "EscalationConcernView",
    "EventRow",
    "Letter",
    "MessageRow",
    "NOTICE_KINDS",
    "NoticeView",
    "Party",
    "RecordedItem",
    "RefusedURL",
    "ReminderView",
    "ResolutionNoticeView",
    "StageRow",
    "TimelineRow",
    "WORD_TEMPLATES",
    "asset_url",
    "html_environment",
    "html_to_pdf",
    "render_acknowledgement",
    "render_case_record",
    "render_docx",
    "render_escalation_concern",
    "render_html",
    "render_notice",
    "render_notice_docx",
    "render_pdf",
    "render_reminder",
    "render_resolution_notice",
    "render_resolution_notice_docx",
    "word_environment",
]
