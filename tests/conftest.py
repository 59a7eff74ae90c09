"""Real servers on loopback for the whole test suite (see tests/services/)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.services.dovecot import CAPABILITIES_WITHOUT_IDLE_OR_MOVE, DovecotServer, MailUser
from tests.services.smtp import SmtpServer


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A Dovecot IMAP server (IDLE, MOVE, UIDPLUS; plain+STARTTLS on .port, TLS on .ssl_port)."""
    server = DovecotServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dovecot_without_idle() -> Iterator[DovecotServer]:
    """A Dovecot that advertises neither IDLE nor MOVE, as older or stricter servers do."""
    server = DovecotServer(capabilities=CAPABILITIES_WITHOUT_IDLE_OR_MOVE).start()
    yield server
    server.stop()


@pytest.fixture
def mail_user(dovecot: DovecotServer) -> MailUser:
    """A fresh user with an empty mailbox on the ``dovecot`` server."""
    return dovecot.new_user()


@pytest.fixture(scope="session")
def _smtp_session_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server(_smtp_session_server: SmtpServer) -> SmtpServer:
    """The loopback SMTP server, emptied and accepting everything at the start of each test."""
    _smtp_session_server.clear()
    return _smtp_session_server
