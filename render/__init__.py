"""Render: the documents people see — PDF letters, notices, auditor records, Word copies.

Every renderer is a pure function from a view (``render.views``) to bytes.
PDFs come from sandboxed Jinja2 HTML templates through WeasyPrint with a URL
fetcher that serves only the product's packaged assets (``render.fetcher``);
Word documents come from docxtpl templates rendered in the same sandbox.
Outbound mail is built by pure functions (``render.outbox``, ``render.compose``)
and handed to SMTP by ``render.smtp``; the outbox table lives in ``cases``.
What a case is owed is planned purely (``render.plan``); ``render.dispatch``
queues, files and sends it exactly once (``run_tick``); ``render.record``
writes the auditor's record of a case.
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
from .text import render_text
from .outbox import (
    AUTO_SUBMITTED,
    MailAttachment,
    OutboundMail,
    RecipientRateLimit,
    build_message,
    clean_header_text,
    clean_message_id,
    envelope_recipients,
    is_automatic,
    message_id_for,
    parse_one_address,
    references_for,
    reply_subject,
    with_case_token,
)
from .compose import compose_acknowledgement, compose_notice, compose_reminder
from .smtp import PermanentSendFailure, SendFailure, SmtpSender, TemporarySendFailure, send_with_retry
from .plan import CaseFacts, CasePlan, Planned, facts_from_case, in_working_hours, plan_case
from .dispatch import TickReport, run_tick
from .smtp_phased import PhasedSmtpSender
from .sending import recover_interrupted, settle_unconfirmed
from .record import case_record_view, write_case_record

__all__ = [
    "CaseFacts",
    "CasePlan",
    "Planned",
    "facts_from_case",
    "in_working_hours",
    "plan_case",
    "TickReport",
    "run_tick",
    "PhasedSmtpSender",
    "recover_interrupted",
    "settle_unconfirmed",
    "case_record_view",
    "write_case_record",
    "AcknowledgementView",
    "ActionRow",
    "ARCHIVE_VARIANT",
    "ASSET_BASE_URL",
    "ASSET_SCHEME",
    "asset_url",
    "AssetFetcher",
    "AUTO_SUBMITTED",
    "build_message",
    "CaseRecordView",
    "ChildDetails",
    "clean_header_text",
    "clean_message_id",
    "compose_acknowledgement",
    "compose_notice",
    "compose_reminder",
    "DeadlineRow",
    "DocumentRow",
    "envelope_recipients",
    "EscalationConcernView",
    "EventRow",
    "html_environment",
    "html_to_pdf",
    "is_automatic",
    "Letter",
    "MailAttachment",
    "message_id_for",
    "MessageRow",
    "NOTICE_KINDS",
    "NoticeView",
    "OutboundMail",
    "parse_one_address",
    "Party",
    "PermanentSendFailure",
    "RecipientRateLimit",
    "RecordedItem",
    "references_for",
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
    "reply_subject",
    "ResolutionNoticeView",
    "send_with_retry",
    "SendFailure",
    "SmtpSender",
    "StageRow",
    "TemporarySendFailure",
    "TimelineRow",
    "with_case_token",
    "word_environment",
    "WORD_TEMPLATES",
]
