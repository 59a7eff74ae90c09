"""Settings that point the product at the loopback sign-in service, Dovecot and SMTP server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from resdesk.settings import Settings
from tests.render.casefile import BUSINESS_UNIT, SENDER


def microsoft_mailbox(tenant, identity, dovecot, *, certificate: bool = False, **overrides: Any) -> dict[str, Any]:
    """The ``[mailbox]`` section for ``tenant``'s shared mailbox with ``auth = "microsoft"``."""
    section: dict[str, Any] = {
        "kind": "imap", "host": "127.0.0.1", "port": dovecot.port, "security": "none",
        "username": tenant.mailbox.username, "poll_seconds": 600,
        "auth": "microsoft", "tenant_id": tenant.id, "client_id": tenant.app.client_id,
        "authority": identity.base_url, "authority_ca_file": str(identity.authority.ca_file),
    }
    if certificate:
        section.update(client_certificate=str(tenant.certificate.pem_file),
                       client_certificate_thumbprint=tenant.certificate.thumbprint)
    else:
        section["client_secret"] = tenant.secret
    section.update(overrides)
    return section


def settings_with(tmp_path: Path, mailbox: dict[str, Any], smtp_server, **smtp: Any) -> Settings:
    """Whole settings: ``mailbox`` as given, SMTP signing in the same way (keys from ``[mailbox]``)."""
    return Settings.model_validate({
        "partnership": {"protocol": "oldham", "business_unit": BUSINESS_UNIT},
        "mailbox": mailbox,
        "smtp": {"host": smtp_server.host, "port": smtp_server.port, "security": "none", "sender": SENDER,
                 "auth": mailbox.get("auth", "password"), **smtp},
        "storage": {"database": f"sqlite:///{tmp_path / 'resdesk.sqlite3'}", "archive": str(tmp_path / "archive")},
    })
