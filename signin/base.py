"""What every sign-in provider offers: a current access token for one mailbox.

SASL XOAUTH2 (Google's and Microsoft's mechanism for IMAP and SMTP) sends
``user=<mailbox>^Aauth=Bearer <token>^A^A`` as the client's initial response.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from prometheus_client import Counter

from resdesk.errors import SignInError

__all__ = ["TOKEN_REFRESH_FAILURES", "TokenSource", "counted_failures", "xoauth2_response"]

TOKEN_REFRESH_FAILURES = Counter(
    "resdesk_token_refresh_failures", "Requests for a sign-in token that failed, by provider.", ["provider"],
    registry=None,  # the service registers it with its own (resdesk.monitoring)
)


def counted_failures(provider: str, fetch: Callable[[], str]) -> str:
    """``fetch()``'s token; a ``SignInError`` it raises is counted in ``TOKEN_REFRESH_FAILURES`` first."""
    try:
        return fetch()
    except SignInError:
        TOKEN_REFRESH_FAILURES.labels(provider).inc()
        raise


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
