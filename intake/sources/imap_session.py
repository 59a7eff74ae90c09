"""Opening a signed-in IMAP session: TLS (implicit, or STARTTLS), the server's certificate checked,
then LOGIN with the password or SASL XOAUTH2 (RFC 7628's Microsoft and Google form) with a token
asked for afresh (``resdesk.signin``), each refusal turned into an ``IntakeError`` or ``SignInError``
naming what to fix.
"""

from __future__ import annotations

import imaplib
import ssl

from imapclient import IMAPClient
from imapclient.exceptions import LoginError
from imapclient.util import to_unicode

from resdesk.errors import IntakeError
from resdesk.signin import TokenSource
from resdesk.signin.refusals import NOT_CONNECTED, not_connected, refused_token

__all__ = ["DROPPED", "quietly_close", "signed_in"]

DROPPED = (imaplib.IMAP4.abort, OSError, EOFError)  # a connection lost: reopened and the operation run again


def signed_in(host: str, port: int, security: str, ssl_context: ssl.SSLContext, timeout: float, username: str,
              password: str | None, tokens: TokenSource | None) -> IMAPClient:
    """A session with ``host:port`` over ``security`` (``ssl``, ``starttls`` or ``none``), signed in as
    ``username``: with ``password``, or XOAUTH2 with a token from ``tokens`` when given. ``IntakeError``
    for an untrusted certificate or a refused login; a lost connection raises one of ``DROPPED``."""
    try:
        client = IMAPClient(host, port=port, ssl=security == "ssl", ssl_context=ssl_context, timeout=timeout)
    except ssl.SSLCertVerificationError as exc:
        raise _untrusted(host, port, exc) from None
    try:
        if security == "starttls":
            try:
                client.starttls(ssl_context)
            except ssl.SSLCertVerificationError as exc:
                raise _untrusted(host, port, exc) from None
        _login(client, host, port, username, password, tokens)
    except BaseException:
        quietly_close(client)
        raise
    return client


def _login(client: IMAPClient, host: str, port: int, username: str, password: str | None,
           tokens: TokenSource | None) -> None:
    """LOGIN with the password, or AUTHENTICATE XOAUTH2 with a current token."""
    if tokens is None:
        try:
            client.login(username, password)
        except LoginError as exc:
            raise IntakeError(
                f"The IMAP server {host}:{port} refused the login of {username} ({to_unicode(str(exc))})."
            ) from None
        return
    token = tokens.token()  # raises SignInError naming the setting to fix
    try:
        client.oauth2_login(username, token)
    except LoginError as exc:
        # The words may come as the server's parting BYE, which imaplib keeps among the untagged
        # responses when the socket closes before the tagged reply.
        said = [str(exc)] + [to_unicode(b) for b in getattr(client, "_imap").untagged_responses.get("BYE", [])]
        if any(NOT_CONNECTED in text for text in said):
            raise not_connected(username) from None
        raise refused_token("IMAP", f"{host}:{port}", tokens.provider, username, to_unicode(str(exc))) from None


def _untrusted(host: str, port: int, exc: ssl.SSLCertVerificationError) -> IntakeError:
    return IntakeError(
        f"The IMAP server {host}:{port} presented a certificate that is not trusted "
        f"({exc.verify_message}); set [mailbox] ca_file if it comes from a private authority."
    )


def quietly_close(client: IMAPClient | None) -> None:
    """Shut the connection without a word to the server, whatever state it is in."""
    if client is None:
        return
    try:
        client.shutdown()
    except (*DROPPED, imaplib.IMAP4.error):
        pass
