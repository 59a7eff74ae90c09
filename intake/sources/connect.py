"""Opens the mail source the settings describe (``[mailbox] kind``)."""

from __future__ import annotations

import ssl

from intake.sources.base import MailSource
from resdesk.errors import UsageError
from resdesk.settings import Settings


def connect_source(settings: Settings, *, ssl_context: ssl.SSLContext | None = None) -> MailSource:
    """The watched folder of ``settings.mailbox``: a Maildir, or an IMAP folder (connected now).

    ``ssl_context`` replaces the default one (system CAs plus ``mailbox.ca_file``).
    """
    mailbox = settings.mailbox
    if mailbox.kind == "maildir":
        from intake.sources.maildir import MaildirSource

        return MaildirSource(mailbox.path, mailbox.folder, poll_seconds=min(mailbox.poll_seconds, 1.0))
    from intake.sources.imap import ImapSource

    if not mailbox.password:
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
        ssl_context=ssl_context,
        idle_seconds=mailbox.idle_seconds,
        poll_seconds=mailbox.poll_seconds,
    )
