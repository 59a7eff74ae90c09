"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives.

``SmtpServer.start()`` runs an aiosmtpd ``Controller`` on 127.0.0.1 at a free
port in its own thread. Every accepted message is kept as a ``ReceivedMessage``
(envelope sender, envelope recipients, raw bytes) in a list guarded by a lock;
``fail_next(n)`` makes the server answer ``451`` (a temporary failure) to the
next ``n`` messages instead, so senders' retries can be tested.

``SmtpServer(xoauth2_key=PEM)`` accepts mail only after AUTH XOAUTH2 with a bearer
JWT signed by that key, unexpired and naming the login user in its ``email``
claim (Exchange Online's and Gmail's rule); a refused token gets the ``334``
error challenge and then ``535 5.7.3``, and a mailbox in ``smtp_auth_disabled``
gets Exchange's ``535 5.7.139`` (SMTP AUTH turned off for the mailbox).
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass

import base64

import jwt
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from tests.services.dovecot import HOST, free_port


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes


class _Collector:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[ReceivedMessage] = []
        self.failures_left = 0
        self.refused = 0
        self.arrived = threading.Condition(self.lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            if self.failures_left > 0:
                self.failures_left -= 1
                self.refused += 1
                return "451 4.3.0 Temporary failure, please try again later"
            raw = envelope.original_content or envelope.content or b""
            if isinstance(raw, str):
                raw = raw.encode("utf-8", "surrogateescape")
            self.received.append(ReceivedMessage(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(raw)))
            self.arrived.notify_all()
        return "250 2.0.0 Message accepted for delivery"


class _XOAuth2Collector(_Collector):
    """A collector that also answers AUTH XOAUTH2, checking the bearer token offline."""

    def __init__(self, key: bytes) -> None:
        super().__init__()
        self.key = key
        self.smtp_auth_disabled: set[str] = set()
        self.logins: list[str] = []

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:  # noqa: N802 - aiosmtpd's name
        if len(args) > 1:
            response = args[1].encode()
        else:
            response = await server.challenge_auth("")
        fields = dict(
            part.split("=", 1) for part in base64.b64decode(response).decode(errors="replace").split("\x01") if "=" in part
        )
        user, bearer = fields.get("user", ""), fields.get("auth", "")
        if user in self.smtp_auth_disabled:
            return AuthResult(success=False, handled=False, message="535 5.7.139 Authentication unsuccessful, "
                              "SmtpClientAuthentication is disabled for the Mailbox.")
        try:
            claims = jwt.decode(bearer.removeprefix("Bearer "), self.key, algorithms=["RS256"],
                                options={"verify_aud": False})
            valid = claims.get("email") == user
        except jwt.InvalidTokenError:
            valid = False
        if not valid:
            error = base64.b64encode(b'{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}')
            await server.challenge_auth(error, encode_to_b64=False)  # the client answers with an empty line
            return AuthResult(success=False, handled=False, message="535 5.7.3 Authentication unsuccessful")
        with self.lock:
            self.logins.append(user)
        return AuthResult(success=True, auth_data=user)

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,  # noqa: N802
                          mail_options: list[str]) -> str:
        if not session.authenticated:
            return "530 5.7.57 Client not authenticated to send mail"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"


class _LongLineSMTP(SMTP):
    """Takes the long AUTH lines a bearer token makes (Exchange and Gmail take them too)."""

    line_length_limit = 16384

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.command_size_limits = collections.defaultdict(lambda: 16384)


class _LongLineController(Controller):
    def factory(self) -> SMTP:
        return _LongLineSMTP(self.handler, **self.SMTP_kwargs)


class SmtpServer:
    """One running SMTP server; ``messages`` is a snapshot of what it accepted so far."""

    def __init__(self, *, xoauth2_key: bytes | None = None) -> None:
        self.host = HOST
        self.port = 0
        self._collector = _XOAuth2Collector(xoauth2_key) if xoauth2_key else _Collector()
        self._controller: Controller | None = None

    @property
    def smtp_auth_disabled(self) -> set[str]:
        """Mailboxes whose SMTP AUTH is turned off (XOAUTH2 servers only)."""
        return self._collector.smtp_auth_disabled

    @property
    def logins(self) -> list[str]:
        """The users that authenticated with XOAUTH2, in order."""
        with self._collector.lock:
            return list(self._collector.logins)

    def start(self) -> "SmtpServer":
        self.port = free_port()
        if isinstance(self._collector, _XOAuth2Collector):
            # Loopback only, so AUTH without TLS is allowed here; MAIL without AUTH is refused (handle_MAIL).
            self._controller = _LongLineController(self._collector, hostname=HOST, port=self.port,
                                                   auth_require_tls=False)
        else:
            self._controller = Controller(self._collector, hostname=HOST, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._collector.lock:
            return list(self._collector.received)

    @property
    def refused(self) -> int:
        """How many messages were answered with a temporary failure."""
        with self._collector.lock:
            return self._collector.refused

    def fail_next(self, count: int) -> None:
        """Answer ``451`` to the next ``count`` messages (each refused one is not kept)."""
        with self._collector.lock:
            self._collector.failures_left = count

    def clear(self) -> None:
        with self._collector.lock:
            self._collector.received.clear()
            self._collector.failures_left = 0
            self._collector.refused = 0
            if isinstance(self._collector, _XOAuth2Collector):
                self._collector.logins.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMessage]:
        """Block until at least ``count`` messages have arrived (or ``timeout``); returns them."""
        deadline = time.monotonic() + timeout
        with self._collector.arrived:
            while len(self._collector.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._collector.arrived.wait(left)
            return list(self._collector.received)
