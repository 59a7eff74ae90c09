"""Whole outbound messages from views: the text body, the PDF, and the right headers."""

from __future__ import annotations

from email.utils import formataddr

from resdesk.render.documents import render_acknowledgement, render_notice, render_notice_docx, render_reminder
from .message import MailAttachment, OutboundMail, reply_subject, with_case_token
from resdesk.render.text import render_text
from resdesk.render.views import AcknowledgementView, NoticeView, Party, ReminderView

__all__ = ["compose_acknowledgement", "compose_notice", "compose_reminder"]

_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _address(party: Party) -> str:
    return formataddr((party.name, party.email)) if party.email else party.name


def compose_acknowledgement(
    view: AcknowledgementView,
    *,
    idempotency_key: str,
    sender: str,
    inbound_message_id: str | None = None,
    inbound_references: list[str] | None = None,
) -> OutboundMail:
    """The reply to a recorded message, threaded onto it, with the acknowledgement PDF."""
    return OutboundMail(
        kind="acknowledgement",
        idempotency_key=idempotency_key,
        sender=sender,
        recipients=[_address(view.recipient)],
        subject=reply_subject(view.received_subject, view.case_ref),
        case_ref=view.case_ref,
        body_text=render_text("acknowledgement.txt", view),
        sent_at=view.issued_at,
        in_reply_to=inbound_message_id,
        references=list(inbound_references or []),
        attachments=[
            MailAttachment(filename=f"acknowledgement-{view.case_ref}.pdf", content=render_acknowledgement(view))
        ],
    )


def compose_notice(
    view: NoticeView, *, idempotency_key: str, sender: str, with_word_copy: bool = False
) -> OutboundMail:
    """A stage-entry notice to whoever the protocol names, with the PDF (and a Word copy)."""
    attachments = [MailAttachment(filename=f"{view.kind}-{view.case_ref}.pdf", content=render_notice(view))]
    if with_word_copy:
        attachments.append(
            MailAttachment(
                filename=f"{view.kind}-{view.case_ref}.docx", content=render_notice_docx(view), media_type=_DOCX
            )
        )
    return OutboundMail(
        kind="notice",
        idempotency_key=idempotency_key,
        sender=sender,
        recipients=[_address(view.recipient)],
        subject=with_case_token(view.title, view.case_ref),
        case_ref=view.case_ref,
        body_text=render_text("notice.txt", view),
        sent_at=view.issued_at,
        attachments=attachments,
    )


def compose_reminder(view: ReminderView, *, idempotency_key: str, sender: str) -> OutboundMail:
    """A reminder before a due time, or an overdue alert, with the PDF."""
    if view.resolved and view.deadline:
        title = f"{'Overdue' if view.kind == 'overdue' else 'Reminder'} after the resolution: {view.deadline}"
    elif view.kind == "overdue" and view.deadline:
        title = f"Overdue at stage {view.stage}: {view.deadline}"
    elif view.kind == "overdue":
        title = f"Overdue: stage {view.stage}"
    elif view.deadline:
        title = f"Reminder at stage {view.stage}: {view.deadline}"
    elif view.due is None:
        title = f"Review: stage {view.stage} is still running"
    else:
        title = f"Reminder: stage {view.stage} due"
    return OutboundMail(
        kind=view.kind,
        idempotency_key=idempotency_key,
        sender=sender,
        recipients=[_address(view.recipient)],
        subject=with_case_token(title, view.case_ref),
        case_ref=view.case_ref,
        body_text=render_text("reminder.txt", view),
        sent_at=view.issued_at,
        attachments=[MailAttachment(filename=f"{view.kind}-{view.case_ref}.pdf", content=render_reminder(view))],
    )
