"""Forwards read through more than one level, and what a stage 3 notification carries (``intake.forwarded``)."""

from __future__ import annotations

from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime

from resdesk.intake.reading import IntakePolicy, MessageReader

NOW = datetime(2026, 12, 15, tzinfo=timezone.utc)


def _mail(subject: str, body: str, when: datetime, message_id: str, attached: EmailMessage | None = None) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Dana Whitfield <dana.whitfield@police.example>"
    mail["To"] = "escalations@partnership.example"
    mail["Subject"] = subject
    mail["Date"] = format_datetime(when)
    mail["Message-ID"] = message_id
    mail.set_content(body)
    if attached is not None:
        mail.add_attachment(attached)
    return mail


def _notification_carrying_the_summary() -> EmailMessage:
    """An Oldham stage 3 notification with the stage 2 summary it follows attached (for the directors)."""
    stage_2 = _mail("Escalation & Resolution Protocol: Stage 2 Summary",
                    "Summary of our stage 2 discussion about child J.S.\nOutcome: escalated\n",
                    datetime(2026, 12, 10, 10, tzinfo=timezone.utc), "<s2@police.example>")
    return _mail("Notification of Escalation progressing to Stage 3 - J.S.",
                 "We are escalating the disagreement about J.S. to stage 3. Our stage 2 summary is attached.\n",
                 datetime(2026, 12, 14, 10, tzinfo=timezone.utc), "<n3@police.example>", stage_2)


def test_a_forwarded_stage_3_notification_carrying_the_stage_2_summary_is_read_as_the_notification():
    """GIVEN an Oldham stage 3 notification that attaches the stage 2 summary it follows (for the
    directors to read), forwarded as an attachment by a colleague WHEN intake reads the forward THEN
    what is recorded is the stage 3 notification the colleague forwarded (as before today's change),
    not the older stage 2 summary it carries: the notification says something of its own (its subject)."""
    notification = _notification_carrying_the_summary()
    forward = _mail("FW: Notification of Escalation progressing to Stage 3 - J.S.", "Forwarding as asked.\n",
                    datetime(2026, 12, 14, 11, tzinfo=timezone.utc), "<fw@police.example>", notification)
    reader = MessageReader(IntakePolicy(frozenset({"escalations@partnership.example"}), (), None, 1_000_000))
    reading = reader.read(forward.as_bytes(), now=NOW)
    assert (reading.classification.kind, reading.message.message_id) == ("stage-3-notification", "<n3@police.example>")


def test_a_stage_3_notification_carrying_the_stage_2_summary_is_read_as_the_notification():
    """GIVEN an Oldham stage 3 notification arriving itself, with the stage 2 summary it follows attached
    as a message WHEN intake reads it THEN the notification is what is recorded, not the summary it carries."""
    notification = _notification_carrying_the_summary()
    reader = MessageReader(IntakePolicy(frozenset({"escalations@partnership.example"}), (), None, 1_000_000))
    reading = reader.read(notification.as_bytes(), now=NOW)
    assert (reading.classification.kind, reading.message.message_id) == ("stage-3-notification", "<n3@police.example>")
