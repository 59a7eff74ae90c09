"""One SMTP transaction in phases, so the outbox knows when a crash could have sent a message.

A server can accept a message only at the end of DATA. ``PhasedSmtpSender``
runs MAIL FROM and RCPT TO, then calls ``before_data`` (the outbox commits "this
message is now being transmitted"), then sends DATA. A process that dies before
``before_data`` returned cannot have had its message accepted, so the outbox can
send it again safely; only a death during DATA leaves the outcome unknown.
Failures are reported as the plain sender reports them (4xx temporary, 5xx permanent).
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Sequence

from resdesk.errors import SignInError

from .smtp import PermanentSendFailure, SmtpSender, TemporarySendFailure

__all__ = ["PhasedSmtpSender"]


def _failure(message_id: str, reason: str, code: int):
    kind = TemporarySendFailure if 400 <= code < 500 else PermanentSendFailure
    return kind(message_id, reason, code)


class PhasedSmtpSender:
    """An ``SmtpSender`` whose transaction pauses for the outbox just before DATA."""

    def __init__(self, smtp: SmtpSender):
        self.smtp = smtp

    def send(self, raw: bytes, *, mail_from: str, recipients: Sequence[str], message_id: str) -> None:
        self.send_phased(raw, mail_from=mail_from, recipients=recipients, message_id=message_id, before_data=lambda: None)

    def send_phased(
        self,
        raw: bytes,
        *,
        mail_from: str,
        recipients: Sequence[str],
        message_id: str,
        before_data: Callable[[], None],
    ) -> None:
        """Send ``raw``; ``before_data`` runs after the envelope is accepted and before DATA."""
        try:
            with self.smtp._connect() as client:
                client.ehlo_or_helo_if_needed()
                code, reply = client.mail(mail_from)
                if code != 250:
                    raise _failure(message_id, f"the server answered {code} {reply!r} to MAIL FROM", code)
                refused = {}
                for recipient in recipients:
                    code, reply = client.rcpt(recipient)
                    if code not in (250, 251):
                        refused[recipient] = (code, reply)
                if len(refused) == len(recipients):
                    codes = [code for code, _ in refused.values()]
                    raise _failure(message_id, f"every recipient was refused ({codes})", min(codes))
                before_data()
                code, reply = client.data(raw)
                if code != 250:
                    raise _failure(message_id, f"the server answered {code} {reply!r} to the message", code)
        except smtplib.SMTPResponseException as error:
            raise _failure(
                message_id, f"the server answered {error.smtp_code} {error.smtp_error!r}", error.smtp_code
            ) from error
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as error:
            raise TemporarySendFailure(message_id, f"the connection failed ({error})") from error
        except SignInError as error:  # no token, or the server refused it: the message waits
            raise TemporarySendFailure(message_id, str(error).rstrip(".")) from error
        except smtplib.SMTPException as error:  # e.g. STARTTLS or AUTH the server does not offer
            raise TemporarySendFailure(message_id, f"the SMTP session failed ({error})") from error
        if refused:
            raise PermanentSendFailure(message_id, f"some recipients were refused: {sorted(refused)}")
