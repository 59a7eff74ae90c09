"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives.

``SmtpServer.start()`` runs an aiosmtpd ``Controller`` on 127.0.0.1 at a free
port in its own thread. Every accepted message is kept as a ``ReceivedMessage``
(envelope sender, envelope recipients, raw bytes) in a list guarded by a lock;
``fail_next(n)`` makes the server answer ``451`` (a temporary failure) to the
next ``n`` messages instead, so senders' retries can be tested.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

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


class SmtpServer:
    """One running SMTP server; ``messages`` is a snapshot of what it accepted so far."""

    def __init__(self) -> None:
        self.host = HOST
        self.port = 0
        self._collector = _Collector()
        self._controller: Controller | None = None

    def start(self) -> "SmtpServer":
        self.port = free_port()
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
