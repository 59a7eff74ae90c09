"""Opens the mail source the settings describe (``[mailbox] kind``).

The shell passes the ``[mailbox]`` section in; intake never imports the shell's settings.
"""

from __future__ import annotations

import ssl
from typing import Literal, Protocol

from resdesk.intake.sources.base import MailSource
from resdesk.errors import UsageError


class MailboxConfig(Protocol):
    """The ``[mailbox]`` settings a source needs (any object with these attributes)."""

    kind: Literal["imap", "maildir"]
    path: str
    folder: str
    host: str
    port: int
    security: Literal["ssl", "starttls", "none"]
    username: str
    password: str | None
    auth: Literal["password", "microsoft", "google"]  # and the sign-in keys of resdesk.signin.SignInConfig
    ca_file: str | None
    idle_seconds: float
    poll_seconds: float


def connect_source(mailbox: MailboxConfig, *, ssl_context: ssl.SSLContext | None = None) -> MailSource:
    """The watched folder of ``mailbox`` (the ``[mailbox]`` settings): a Maildir, or an IMAP
    folder, connected now.

    ``ssl_context`` replaces the default one (system CAs plus ``mailbox.ca_file``). With
    ``mailbox.auth`` ``"microsoft"`` or ``"google"`` it logs in with XOAUTH2 (``resdesk.signin``).
    Raises ``UsageError`` for settings that cannot work (no IMAP password), ``SignInError`` when
    no token is had or the server refuses it, and ``IntakeError`` when the server cannot be reached.
    """
    if mailbox.kind == "maildir":
        from resdesk.intake.sources.maildir import MaildirSource

        return MaildirSource(mailbox.path, mailbox.folder, poll_seconds=min(mailbox.poll_seconds, 1.0))
    from resdesk.intake.sources.imap import ImapSource

    from resdesk.signin import token_source

    tokens = token_source(mailbox, mailbox.username, section="mailbox")
    if tokens is None and not mailbox.password:
        raise UsageError("The IMAP password is not set; put it in the environment as RESDESK_MAILBOX__PASSWORD.")
    if ssl_context is None:
        ssl_context = ssl.create_default_context()
        if mailbox.ca_file:
            ssl_context.load_verify_locations(cafile=mailbox.ca_file)
    return ImapSource(
        mailbox.host,
        mailbox.port,
        mailbox.security,
        mailbox.username,
        mailbox.password,
        mailbox.folder,
        token_source=tokens,
        ssl_context=ssl_context,
        idle_seconds=mailbox.idle_seconds,
        poll_seconds=mailbox.poll_seconds,
    )
