"""Render: the documents people see — PDF letters, notices, auditor records, Word copies.

Every renderer is a pure function from a view (``resdesk.render.views``) to bytes.
PDFs come from sandboxed Jinja2 HTML templates through WeasyPrint with a URL
fetcher that serves only the product's packaged assets (``resdesk.render.fetcher``);
Word documents come from docxtpl templates rendered in the same sandbox.
``resdesk.render.snapshot`` and ``resdesk.render.prefill`` turn a case's events
into the views the documents show; ``resdesk.render.record`` writes the auditor's
record of a case and ``resdesk.render.recordcheck`` checks one offline. Mail is composed, queued and sent by ``resdesk.outbox``.
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what type checkers see; at run time each name is imported on first use (below)
    from .fetcher import ASSET_BASE_URL, ASSET_SCHEME, RefusedURL, asset_url
    from .html import ARCHIVE_VARIANT, html_environment, html_to_pdf, render_html, render_pdf
    from .recordpdf import render_case_record
    from .documents import (
        render_acknowledgement,
        render_escalation_concern,
        render_notice,
        render_notice_docx,
        render_reminder,
        render_resolution_notice,
        render_resolution_notice_docx,
        render_subject_access_index,
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
    from .text import render_text
    from .addresses import clean_header_text, parse_one_address
    from .record import case_record_view, write_case_record
    from .recordcheck import check_record, read_record
    from .worker import RenderLimits, RenderPool, RenderWorker, configure_default_pool, default_pool
    from .assetfetcher import AssetFetcher

_DEFINED_IN = (  # each module, and the names it gives the package
    ("addresses", ("clean_header_text", "parse_one_address")),
    ("assetfetcher", ("AssetFetcher",)),
    ("documents", ("render_acknowledgement", "render_escalation_concern", "render_notice", "render_notice_docx",
                   "render_reminder", "render_resolution_notice", "render_resolution_notice_docx",
                   "render_subject_access_index")),
    ("fetcher", ("ASSET_BASE_URL", "ASSET_SCHEME", "RefusedURL", "asset_url")),
    ("html", ("ARCHIVE_VARIANT", "html_environment", "html_to_pdf", "render_html", "render_pdf")),
    ("record", ("case_record_view", "write_case_record")),
    ("recordcheck", ("check_record", "read_record")),
    ("recordpdf", ("render_case_record",)),
    ("text", ("render_text",)),
    ("views", ("NOTICE_KINDS", "AcknowledgementView", "ActionRow", "CaseRecordView", "ChildDetails", "DeadlineRow",
               "DocumentRow", "EscalationConcernView", "EventRow", "Letter", "MessageRow", "NoticeView", "Party",
               "RecordedItem", "ReminderView", "ResolutionNoticeView", "StageRow", "TimelineRow")),
    ("word", ("WORD_TEMPLATES", "render_docx", "word_environment")),
    ("worker", ("RenderLimits", "RenderPool", "RenderWorker", "configure_default_pool", "default_pool")),
)
_WHERE = {name: module for module, names in _DEFINED_IN for name in names}

__all__ = [
    "render_subject_access_index",
    "check_record",
    "read_record",
    "RenderLimits",
    "RenderPool",
    "RenderWorker",
    "configure_default_pool",
    "default_pool",
    "case_record_view",
    "write_case_record",
    "AcknowledgementView",
    "ActionRow",
    "ARCHIVE_VARIANT",
    "ASSET_BASE_URL",
    "ASSET_SCHEME",
    "asset_url",
    "AssetFetcher",
    "CaseRecordView",
    "ChildDetails",
    "clean_header_text",
    "DeadlineRow",
    "DocumentRow",
    "EscalationConcernView",
    "EventRow",
    "html_environment",
    "html_to_pdf",
    "Letter",
    "MessageRow",
    "NOTICE_KINDS",
    "NoticeView",
    "parse_one_address",
    "Party",
    "RecordedItem",
    "RefusedURL",
    "ReminderView",
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
    "render_text",
    "ResolutionNoticeView",
    "StageRow",
    "TimelineRow",
    "word_environment",
    "WORD_TEMPLATES",
]


def __getattr__(name: str):
    """Each name on first use, from the module that defines it (``_WHERE``): ``from resdesk.render.snapshot
    import …`` (the outbox's planning) then loads neither WeasyPrint, pypdf nor the Word templates, which
    a process that renders nothing (a watcher with sending off, ``cases``) never needs."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
