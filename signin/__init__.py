"""Signing in to a mailbox as an application: OAuth2 access tokens for IMAP and SMTP (XOAUTH2).

A ``TokenSource`` hands out a current access token for one mailbox; IMAP and SMTP
ask it again on every new connection, so a token that expired while a session was
open is replaced on reconnect. ``token_source(config)`` builds the one the
settings name (``auth = "microsoft"`` or ``"google"``); ``xoauth2_response`` is
the SASL XOAUTH2 initial client response. Failures are ``SignInError``s, each one
sentence naming the setting or the administrator's step that fixes it.
"""

from resdesk.errors import SignInError
from resdesk.signin.base import TokenSource, xoauth2_response
from resdesk.signin.factory import SignInConfig, smtp_sign_in, token_source

__all__ = [
    "SignInConfig", "SignInError", "TokenSource", "smtp_sign_in", "token_source", "xoauth2_response",
]
