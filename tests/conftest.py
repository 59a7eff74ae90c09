"""Real servers on loopback for the whole test suite (see tests/services/)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services.dovecot import CAPABILITIES_WITHOUT_IDLE_OR_MOVE, DovecotServer, MailUser
from resdesk.cases import Store, open_store
from resdesk.protocols import default_registry
from tests.services.postgres import PostgresServer
from tests.services.smtp import SmtpServer
from tests.render.tools import CountingListener


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


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'var' / 'resdesk.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path: Path) -> Iterator[Store]:
    """The case file on a fresh SQLite file, then on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'var' / 'resdesk.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    opened = open_store(url, tmp_path / "archive")
    yield opened
    opened.close()


@pytest.fixture
def sqlite_store(sqlite_url: str, tmp_path: Path) -> Iterator[Store]:
    opened = open_store(sqlite_url, tmp_path / "archive")
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def oldham():
    return default_registry().get("oldham")


@pytest.fixture
def listener() -> Iterator[CountingListener]:
    """A loopback listener that counts connections: rendering must never reach it."""
    server = CountingListener()
    yield server
    server.close()
