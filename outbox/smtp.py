"""Sending over SMTP: one connection per batch, 4xx retried with backoff, 5xx reported.

``SmtpSender.send`` hands one message to the server and tells temporary
failures (4xx replies, a dropped connection) from permanent ones (5xx), so the
outbox can retry the first later and give up on the second. ``send_with_retry``
retries temporary failures in-process with exponential backoff; the outbox's
own ``next_attempt_at`` covers retries across restarts.

With a ``token_source`` (``[smtp] auth = "microsoft"`` or ``"google"``) the sender
authenticates with SASL XOAUTH2 as ``username`` instead of a password. A refused
sign-in is a temporary failure carrying the ``SignInError`` sentence: the message
stays queued and goes once the administrator's step is done.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from resdesk.errors import RenderError, SignInError
from resdesk.signin import TokenSource, smtp_sign_in, token_source, xoauth2_response
from resdesk.signin.refusals import SMTP_AUTH_DISABLED, refused_token, smtp_auth_disabled

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
    token_source: TokenSource | None = None

    @classmethod
    def from_settings(cls, smtp, mailbox=None) -> "SmtpSender":
        """The sender ``[smtp]`` describes; OAuth2 keys it leaves out come from ``mailbox`` (``[mailbox]``)."""
        sign_in = smtp_sign_in(smtp, mailbox)
        username = smtp.username or (mailbox.username if mailbox is not None and sign_in.auth != "password" else None)
        tokens = token_source(sign_in, username or "", section="smtp")
        if tokens is not None and not username:
            raise SignInError("[smtp] auth needs a mailbox address to send as: set [smtp] username.", step="smtp.username")
        return cls(smtp.host, smtp.port, smtp.security, username, smtp.password, token_source=tokens)

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        if self.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                client.starttls(context=context)
        if self.token_source is not None:
            try:
                self.authenticate_xoauth2(client)
            except BaseException:
                client.close()
                raise
        elif self.username:
            client.login(self.username, self.password or "")
        return client

    def authenticate_xoauth2(self, client: smtplib.SMTP) -> None:
        """AUTH XOAUTH2 with a current token; raises ``SignInError`` saying what to fix."""
        token = self.token_source.token()
        response = xoauth2_response(self.username or "", token)
        client.ehlo_or_helo_if_needed()
        try:
            # On refusal the server sends a 334 challenge (an error in JSON); an empty reply ends it.
            client.auth("XOAUTH2", lambda challenge=None: "" if challenge else response, initial_response_ok=True)
        except smtplib.SMTPAuthenticationError as error:
            reply = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else str(error.smtp_error)
            if SMTP_AUTH_DISABLED in reply:
                raise smtp_auth_disabled(self.username or "") from None
            raise refused_token(
                "SMTP", f"{self.host}:{self.port}", self.token_source.provider, self.username or "",
                f"{error.smtp_code} {reply}",
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise SignInError(
                f"The SMTP server {self.host}:{self.port} offers no AUTH XOAUTH2: check [smtp] host, port and "
                "security (Exchange Online: smtp.office365.com, 587, starttls; Gmail: smtp.gmail.com, 587, starttls).",
                step="smtp.host",
            ) from None

    def check_login(self) -> None:
        """Connect and authenticate exactly as for sending, then leave (``resdesk check``).

        Raises ``SignInError`` for a refused token and ``RenderError`` for anything else.
        """
        try:
            with self._connect() as client:
                client.noop()
        except smtplib.SMTPAuthenticationError as error:
            raise RenderError(
                f"The SMTP server {self.host}:{self.port} refused the login of {self.username} "
                f"({error.smtp_code} {error.smtp_error!r}); check [smtp] username and RESDESK_SMTP__PASSWORD."
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            raise RenderError(
                f"The SMTP server {self.host}:{self.port} cannot be used ({type(error).__name__}: {error}); "
                "check [smtp] host, port and security."
            ) from None

    def send_test(self, sender: str, to: str) -> str:
        """Send one short test message from ``sender`` (a From header) to ``to``; returns its Message-ID."""
        from email.message import EmailMessage
        from email.utils import format_datetime, make_msgid, parseaddr
        from datetime import datetime, timezone

        mail_from = parseaddr(sender)[1]
        message = EmailMessage()
        message["From"], message["To"] = sender, to
        message["Subject"] = "Resolution Desk set-up check"
        message["Date"] = format_datetime(datetime.now(timezone.utc))
        message["Message-ID"] = make_msgid("resdesk-check", domain=mail_from.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: nobody should reply automatically
        message.set_content("This message was sent by `resdesk check` to confirm that Resolution Desk can send mail.\n")
        self.send(message.as_bytes(), mail_from=mail_from, recipients=[to], message_id=message["Message-ID"])
        return message["Message-ID"]

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
        except SignInError as error:
            raise TemporarySendFailure(message_id, str(error).rstrip(".")) from error
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
    """Send, retrying temporary failures with doubling delays (``first_delay`` seconds, then twice
    that, ...); returns the attempts used. Raises the last ``TemporarySendFailure`` once
    ``attempts`` are spent, and a ``PermanentSendFailure`` at once."""
    retrying = Retrying(
        retry=retry_if_exception_type(TemporarySendFailure),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=first_delay, exp_base=2),
        sleep=sleep,
        reraise=True,
    )
    for attempt in retrying:
        with attempt:
            sender.send(raw, mail_from=mail_from, recipients=recipients, message_id=message_id)
    return attempt.retry_state.attempt_number
