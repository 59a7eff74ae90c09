"""A planned message made whole: its documents rendered and its mail built (pure).

``assemble`` turns one ``render.plan.Planned`` into the ``OutboundMail`` to send
and the documents to file on the case (each attachment, by kind and name). The
acknowledgement, notice and reminder mails come from ``render.compose``; the
Resolution Notice (Oldham Appendix 2) goes as PDF and editable Word, Sandwell's
escalation template as PDF and as the fillable Word form the forms package
reads back, so a business unit can complete it and send it in.
"""

from __future__ import annotations

from dataclasses import dataclass

from resdesk.errors import ResdeskError

from .compose import compose_acknowledgement, compose_notice, compose_reminder
from resdesk.render.documents import render_escalation_concern, render_resolution_notice, render_resolution_notice_docx
from .message import MailAttachment, OutboundMail, with_case_token
from .plan import Planned
from resdesk.render.text import render_text
from resdesk.render.views import EscalationConcernView, NoticeView, ResolutionNoticeView

__all__ = ["DOCX", "Assembled", "assemble"]

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Assembled:
    mail: OutboundMail
    documents: tuple[MailAttachment, ...]


def _escalation_docx(view: EscalationConcernView) -> bytes:
    """Sandwell Appendix 3 as the fillable Word form, pre-filled (read back by the forms package)."""
    from resdesk.forms import EscalationConcern, fill_docx

    fields = view.model_dump(
        mode="json", exclude={"case_ref", "protocol_name", "sender_agency", "recipient", "issued_at"}
    )
    fields = {k: v for k, v in fields.items() if v not in ("", None)}
    fields["actions"] = [{k: v for k, v in row.items() if v not in ("", None)} for row in fields.get("actions", [])]
    return fill_docx("escalation-concern", EscalationConcern.model_validate(fields))


def _with_form(planned: Planned, sender: str) -> OutboundMail:
    view = planned.view
    assert isinstance(view, NoticeView)
    form = planned.form
    ref = planned.case_ref
    if isinstance(form, ResolutionNoticeView):
        attachments = [
            MailAttachment(filename=f"resolution-notice-{ref}.pdf", content=render_resolution_notice(form)),
            MailAttachment(
                filename=f"resolution-notice-{ref}.docx", content=render_resolution_notice_docx(form), media_type=DOCX
            ),
        ]
    elif isinstance(form, EscalationConcernView):
        attachments = [
            MailAttachment(filename=f"escalation-concern-{ref}.pdf", content=render_escalation_concern(form)),
        ]
        try:
            word = _escalation_docx(form)
        except (ResdeskError, ValueError):
            # A value the fillable form refuses must not hold back the notice: the PDF carries it all.
            word = None
        if word is not None:
            attachments.append(MailAttachment(filename=f"escalation-concern-{ref}.docx", content=word, media_type=DOCX))
    else:
        raise TypeError(f"no template for {type(form).__name__}")
    return OutboundMail(
        kind="notice",
        idempotency_key=planned.key,
        sender=sender,
        recipients=[planned.recipient],
        subject=with_case_token(view.title, ref),
        case_ref=ref,
        body_text=render_text("notice.txt", view),
        sent_at=view.issued_at,
        attachments=attachments,
    )


def assemble(planned: Planned, sender: str) -> Assembled:
    """The mail for ``planned`` from ``sender``, with every document it carries."""
    if planned.document == "acknowledgement":
        mail = compose_acknowledgement(
            planned.view, idempotency_key=planned.key, sender=sender,
            inbound_message_id=planned.in_reply_to, inbound_references=list(planned.references),
        )
    elif planned.document == "reminder":
        mail = compose_reminder(planned.view, idempotency_key=planned.key, sender=sender)
    elif planned.document == "notice":
        mail = compose_notice(planned.view, idempotency_key=planned.key, sender=sender)
    else:
        mail = _with_form(planned, sender)
    # The envelope and To are the address planning chose, never a header copied from mail.
    update: dict = {"recipients": [planned.recipient]}
    if planned.document != "acknowledgement" and planned.in_reply_to:
        # Notices and reminders thread onto the case's conversation.
        update.update(in_reply_to=planned.in_reply_to, references=list(planned.references))
    mail = mail.model_copy(update=update)
    return Assembled(mail=mail, documents=tuple(mail.attachments))
