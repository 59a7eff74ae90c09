"""Outbox: what mail a case is owed, composed once, queued once, sent once.

``resdesk.outbox.plan`` works out purely what each case is owed at a moment
(acknowledgements, stage-entry notices, reminders, overdue alerts);
``resdesk.outbox.compose`` and ``resdesk.outbox.assemble`` turn a plan into
``OutboundMail`` with documents from ``resdesk.render``;
``resdesk.outbox.message`` builds the exact bytes with a Message-ID fixed by why
the message exists; ``resdesk.outbox.queue`` writes it to the outbox table
before it is sent; ``resdesk.outbox.sending`` delivers it over SMTP in phases
(``smtp``, ``smtp_phased``) or into a pickup folder (``pickup``) under a lease;
``resdesk.outbox.dispatch`` runs the whole tick (``run_tick``); a person resends or
cancels a message (``resdesk.outbox.corrections``) and acknowledges alerts about
failed sends, bounces and mailbox resets (``resdesk.outbox.alerts``).
"""

from .message import (
    AUTO_SUBMITTED,
    MailAttachment,
    OutboundMail,
    RecipientRateLimit,
    build_message,
    clean_message_id,
    envelope_recipients,
    is_automatic,
    message_id_for,
    references_for,
    reply_subject,
    with_case_token,
)
from .compose import compose_acknowledgement, compose_notice, compose_reminder
from .smtp import PermanentSendFailure, SendFailure, SmtpSender, TemporarySendFailure, send_with_retry
from .plan import CaseSnapshot, CasePlan, Planned, snapshot_of, in_working_hours, plan_case
from .dispatch import TickReport, run_tick
from .smtp_phased import PhasedSmtpSender
from .sending import recover_interrupted, settle_unconfirmed
from .corrections import cancel, resend
from .alerts import acknowledge, open_alerts

__all__ = [
    "acknowledge",
    "cancel",
    "open_alerts",
    "resend",
    "AUTO_SUBMITTED",
    "MailAttachment",
    "OutboundMail",
    "RecipientRateLimit",
    "build_message",
    "clean_message_id",
    "envelope_recipients",
    "is_automatic",
    "message_id_for",
    "references_for",
    "reply_subject",
    "with_case_token",
    "compose_acknowledgement",
    "compose_notice",
    "compose_reminder",
    "PermanentSendFailure",
    "SendFailure",
    "SmtpSender",
    "TemporarySendFailure",
    "send_with_retry",
    "CaseSnapshot",
    "CasePlan",
    "Planned",
    "snapshot_of",
    "in_working_hours",
    "plan_case",
    "TickReport",
    "run_tick",
    "PhasedSmtpSender",
    "recover_interrupted",
    "settle_unconfirmed",
]
