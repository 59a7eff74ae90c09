"""Mail that machines send: delivery status notifications (bounces) in the two shapes
seen most, Postfix's and Exchange's. Out-of-office replies are ordinary ``Mail`` with the
auto-reply headers set; see the partnership modules.
"""

from __future__ import annotations

import mime

OOO_HEADERS = [("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")]
# Older servers mark an auto-reply without Auto-Submitted.
LEGACY_OOO_HEADERS = [("X-Autoreply", "yes"), ("Precedence", "auto_reply"), ("X-Autorespond", "Out of Office")]


def bounce(
    *,
    key: str,
    reporting_mta: str,
    recipient: str,
    status: str,
    diagnostic: str,
    arrival: str,
    original_headers: str,
    style: str = "postfix",
) -> mime.Part:
    """A ``multipart/report; report-type=delivery-status`` body returning ``original_headers``."""
    if style == "postfix":
        human = (
            f"This is the mail system at host {reporting_mta}.\n\n"
            "I'm sorry to have to inform you that your message could not\n"
            "be delivered to one or more recipients. It's attached below.\n\n"
            "For further assistance, please send mail to postmaster.\n\n"
            "If you do so, please include this problem report. You can\n"
            "delete your own text from the attached returned message.\n\n"
            "                   The mail system\n\n"
            f"<{recipient}>: host {recipient.split('@')[1]}[198.51.100.25] said:\n"
            f"    {diagnostic} (in reply to RCPT TO command)\n"
        )
    else:
        human = (
            "Delivery has failed to these recipients or groups:\n\n"
            f"{recipient}\n"
            "The email address you entered couldn't be found. Please check the recipient's\n"
            "email address and try to resend the message. If the problem continues, please\n"
            "contact your helpdesk.\n\n"
            "Diagnostic information for administrators:\n\n"
            f"Generating server: {reporting_mta}\n\n"
            f"{recipient}\n"
            f"Remote Server returned '{diagnostic}'\n"
        )
    status_fields = (
        f"Reporting-MTA: dns; {reporting_mta}\n"
        f"X-Postfix-Queue-ID: {key.upper().replace('-', '')}\n"
        f"Arrival-Date: {arrival}\n"
        "\n"
        f"Final-Recipient: rfc822; {recipient}\n"
        f"Original-Recipient: rfc822;{recipient}\n"
        "Action: failed\n"
        f"Status: {status}\n"
        f"Remote-MTA: dns; {recipient.split('@')[1]}\n"
        f"Diagnostic-Code: smtp; {diagnostic}\n"
    )
    parts = [
        mime.Part('text/plain; charset="us-ascii"', human.encode("ascii"), "7bit",
                  [("Content-Description", "Notification")]),
        mime.inline_message("message/delivery-status", status_fields.encode("ascii"), "Delivery report"),
        mime.inline_message("text/rfc822-headers", original_headers.encode("ascii"), "Undelivered Message Headers"),
    ]
    return mime.multipart("report", parts, f"{key}.bounce/{reporting_mta}", params="; report-type=delivery-status")
