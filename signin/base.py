"""What every sign-in provider offers: a current access token for one mailbox.

SASL XOAUTH2 (Google's and Microsoft's mechanism for IMAP and SMTP) sends
``user=<mailbox>^Aauth=Bearer <token>^A^A`` as the client's initial response.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["TokenSource", "xoauth2_response"]


class TokenSource(Protocol):
    """Access tokens for one mailbox, renewed by the provider before they expire."""

    provider: str  # "microsoft" or "google": named in errors and in ``resdesk check``

    def token(self) -> str:
        """A bearer access token valid now (a cached one while it has minutes left).

        Raises ``SignInError`` naming the setting or admin step to fix.
        """
        ...


def xoauth2_response(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial client response for ``user`` (the mailbox address) and ``token``."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"
