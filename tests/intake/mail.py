"""Building inbound test messages the way agencies' mail programs send them."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def summary(
    stage: int,
    outcome: str | None,
    *,
    n: int = 1,
    sender: str = "Dana Whitfield <dana.whitfield@police.example>",
    subject: str | None = None,
    when: datetime | None = None,
    in_reply_to: str | None = None,
    body_extra: str = "",
) -> bytes:
    """A stage summary as a receiving agency writes it."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "escalations@partnership.example"
    msg["Subject"] = subject or f"Escalation & Resolution Protocol: Stage {stage} Summary"
    msg["Date"] = format_datetime(when or datetime(2026, 12, 14, 10, 0, tzinfo=LONDON))
    msg["Message-ID"] = f"<summary-{stage}-{n}@police.example>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    lines = [
        "Dear colleagues,",
        "",
        f"Summary of our stage {stage} discussion about child J.S. today.",
    ]
    if outcome:
        lines.append(f"Outcome: {outcome}")
    lines += ["", body_extra, "Regards,", "Dana"]
    msg.set_content("\n".join(lines))
    return msg.as_bytes()


def newsletter(n: int = 1) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Training Team <training@council.example>"
    msg["To"] = "escalations@partnership.example"
    msg["Subject"] = "Training dates for the Escalation & Resolution Protocol"
    msg["Date"] = format_datetime(datetime(2026, 12, 1, 9, 0, tzinfo=LONDON))
    msg["Message-ID"] = f"<news-{n}@council.example>"
    msg.set_content("Spaces are available on the spring courses.")
    return msg.as_bytes()
