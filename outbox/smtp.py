"""Sending over SMTP: one connection per batch, 4xx retried with backoff, 5xx reported.

``SmtpSender.send`` hands one message to the server and tells temporary
failures (4xx replies, a dropped connection) from permanent ones (5xx), so the
outbox can retry the first later and give up on the second. ``send_with_retry``
retries temporary failures in-process with exponential backoff; the outbox's
own ``next_attempt_at`` covers retries across restarts.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from resdesk.errors import RenderError

__all__ = ["SmtpSender", "SendFailure", "TemporarySendFailure", "PermanentSendFailure", "send_with_retry"]


class SendFailure(RenderError):
    """A message could not be handed to the SMTP server."""

    def __init__(self, message_id: str, reason: str, code: int | None = None):
        self.message_id = message_id
        self.reason = reason
        self.code = code
        super().__init__(f"Message {message_id} was not sent: {reason}.")


class TemporarySendFailure(SendFailure):
    """The server said 'try later' (4xx) or the connection failed; retry."""


class PermanentSendFailure(SendFailure):
    """The server refused the message for good (5xx); do not retry."""


@dataclass
class SmtpSender:
    """The real SMTP sender (settings ``[smtp]``)."""

    host: str = "127.0.0.1"
    port: int = 587
    security: str = "starttls"  # "ssl", "starttls" or "none"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = None

    @classmethod
    def from_settings(cls, smtp) -> "SmtpSender":
        return cls(smtp.host, smtp.port, smtp.security, smtp.username, smtp.password)

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        if self.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                client.starttls(context=context)
        if self.username:
            client.login(self.username, self.password or "")
        return client

    def send(self, raw: bytes, *, mail_from: str, recipients: Sequence[str], message_id: str) -> None:
        """Hand ``raw`` to the server for ``recipients``; raise a ``SendFailure`` if it is not accepted."""
        try:
            with self._connect() as client:
                refused = client.sendmail(mail_from, list(recipients), raw)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            self._raise(message_id, f"every recipient was refused ({codes})", min(codes))
        except smtplib.SMTPResponseException as error:
            self._raise(message_id, f"the server answered {error.smtp_code} {error.smtp_error!r}", error.smtp_code)
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as error:
            raise TemporarySendFailure(message_id, f"the connection failed ({error})") from error
        if refused:
            # Accepted for some recipients: do not resend to those; report the rest as permanent.
            raise PermanentSendFailure(message_id, f"some recipients were refused: {sorted(refused)}")

    @staticmethod
    def _raise(message_id: str, reason: str, code: int) -> None:
        if 400 <= code < 500:
            raise TemporarySendFailure(message_id, reason, code)
        raise PermanentSendFailure(message_id, reason, code)


def send_with_retry(
    sender: SmtpSender,
    raw: bytes,
    *,
    mail_from: str,
    recipients: Sequence[str],
    message_id: str,
    attempts: int = 4,
    first_delay: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Send, retrying temporary failures with doubling delays; returns the attempts used."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            sender.send(raw, mail_from=mail_from, recipients=recipients, message_id=message_id)
            return attempt
        except TemporarySendFailure:
            if attempt == attempts:
                raise
            sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")
