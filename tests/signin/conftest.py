"""Sign-in services on loopback: a test certificate authority, a token endpoint answering as
Entra ID and Google do, Dovecot taking XOAUTH2 tokens, and an SMTP server that requires them."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.services.dovecot import DovecotServer, MailUser
from tests.services.identity import App, IdentityServer
from tests.services.smtp import SmtpServer
from tests.services.tls import ClientCertificate, TestAuthority


@pytest.fixture(scope="session")
def test_authority() -> Iterator[TestAuthority]:
    folder = Path(tempfile.mkdtemp(prefix="resdesk-ca-"))
    yield TestAuthority(folder)


@pytest.fixture(scope="session")
def identity(test_authority: TestAuthority) -> Iterator[IdentityServer]:
    """The sign-in service (Entra ID and Google's token endpoint) on loopback over HTTPS."""
    server = IdentityServer(test_authority).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oauth_dovecot(identity: IdentityServer) -> Iterator[DovecotServer]:
    """Dovecot accepting XOAUTH2 with tokens the ``identity`` server signs."""
    server = DovecotServer(oauth2=True).start()
    server.trust_oauth2_key(identity.public_pem)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _oauth_smtp(identity: IdentityServer) -> Iterator[SmtpServer]:
    server = SmtpServer(xoauth2_key=identity.public_pem).start()
    yield server
    server.stop()


@pytest.fixture
def oauth_smtp(_oauth_smtp: SmtpServer) -> SmtpServer:
    """The XOAUTH2-only SMTP server, emptied at the start of each test."""
    _oauth_smtp.clear()
    _oauth_smtp.smtp_auth_disabled.clear()
    return _oauth_smtp


@dataclass
class Tenant:
    """A Microsoft 365 tenant on the test sign-in service with one shared mailbox on Dovecot."""

    id: str
    mailbox: MailUser
    app: App
    secret: str | None
    certificate: ClientCertificate | None


@pytest.fixture
def tenant(identity: IdentityServer, oauth_dovecot: DovecotServer) -> Tenant:
    """A tenant whose app registration (client secret) has FullAccess on a fresh shared mailbox."""
    tenant_id = identity.add_tenant()
    mailbox = oauth_dovecot.new_user()
    secret = "s3cr3t~" + tenant_id[:8]
    app = identity.register_app(tenant_id, mailbox.username, secret=secret)
    return Tenant(tenant_id, mailbox, app, secret, None)


@pytest.fixture
def certificate_tenant(identity: IdentityServer, oauth_dovecot: DovecotServer, test_authority: TestAuthority) -> Tenant:
    """A tenant whose app registration signs in with a certificate."""
    tenant_id = identity.add_tenant()
    mailbox = oauth_dovecot.new_user()
    certificate = test_authority.client_certificate(f"app-{tenant_id[:8]}")
    app = identity.register_app(tenant_id, mailbox.username, certificate=certificate)
    return Tenant(tenant_id, mailbox, app, None, certificate)
