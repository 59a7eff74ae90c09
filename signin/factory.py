"""The token source a ``[mailbox]`` or ``[smtp]`` section names (``auth``).

The shell passes the section in (any object with the attributes of ``SignInConfig``);
this package never reads the settings itself.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Protocol

from resdesk.errors import SignInError
from resdesk.signin.base import TokenSource

__all__ = ["SignInConfig", "token_source", "smtp_sign_in"]

SIGN_IN_KEYS = (
    "tenant_id", "client_id", "client_secret", "client_certificate", "client_certificate_thumbprint",
    "authority", "authority_ca_file", "service_account_file",
)
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"


class SignInConfig(Protocol):
    """The sign-in settings of one section (``[mailbox]`` or ``[smtp]``)."""

    auth: str  # "password", "microsoft" or "google"
    tenant_id: str | None
    client_id: str | None
    client_secret: str | None
    client_certificate: str | None
    client_certificate_thumbprint: str | None
    authority: str
    authority_ca_file: str | None
    service_account_file: str | None


def smtp_sign_in(smtp: SignInConfig, mailbox: SignInConfig | None) -> SignInConfig:
    """The ``[smtp]`` sign-in settings: keys it leaves out (None) come from ``[mailbox]`` when both
    name the same ``auth``."""
    same = mailbox is not None and mailbox.auth == smtp.auth
    values = {}
    for key in SIGN_IN_KEYS:
        value = getattr(smtp, key, None)
        values[key] = getattr(mailbox, key, None) if value is None and same else value
    values["authority"] = values["authority"] or DEFAULT_AUTHORITY
    return SimpleNamespace(auth=smtp.auth, **values)


def token_source(config: SignInConfig, user: str, *, section: str = "mailbox") -> TokenSource | None:
    """Tokens for ``user`` (the shared mailbox's address) as ``config.auth`` says; None for passwords.

    Raises ``SignInError`` when a setting the provider needs is missing.
    """
    if config.auth == "password":
        return None
    if config.auth == "microsoft":
        from resdesk.signin.microsoft import MicrosoftTokens

        missing = [key for key in ("tenant_id", "client_id") if not getattr(config, key)]
        if missing:
            raise SignInError(
                f"[{section}] auth = \"microsoft\" needs {' and '.join(missing)}: the Directory (tenant) ID and "
                "Application (client) ID from the app registration's Overview.",
                step=f"{section}.{missing[0]}",
            )
        return MicrosoftTokens(
            config.tenant_id,
            config.client_id,
            client_secret=config.client_secret,
            client_certificate=config.client_certificate,
            client_certificate_thumbprint=config.client_certificate_thumbprint,
            authority=config.authority,
            section=section,
            ca_file=config.authority_ca_file,
        )
    if config.auth == "google":
        from resdesk.signin.google import GoogleTokens

        if not config.service_account_file:
            raise SignInError(
                f"[{section}] auth = \"google\" needs service_account_file: the JSON key of a service account "
                "with domain-wide delegation.",
                step=f"{section}.service_account_file",
            )
        return GoogleTokens(config.service_account_file, user, section=section, ca_file=config.authority_ca_file)
    raise SignInError(f"[{section}] auth must be password, microsoft or google, not '{config.auth}'.", step=f"{section}.auth")
