"""Mail sources: the watched folder of a mailbox behind one small interface.

``MailSource`` (see ``intake.sources.base``) is implemented by ``MaildirSource``
(a local Maildir, the embedded default) and ``ImapSource`` (IMAP through
imapclient); ``connect_source(mailbox)`` opens the one the ``[mailbox]`` settings name.
"""

from resdesk.intake.sources.base import FILED_KEYWORD, FetchedMessage, MailSource, MessageRef
from resdesk.intake.sources.connect import connect_source
from resdesk.intake.sources.imap import ImapSource
from resdesk.intake.sources.maildir import MaildirSource

__all__ = [
    "FILED_KEYWORD",
    "FetchedMessage",
    "ImapSource",
    "MailSource",
    "MaildirSource",
    "MessageRef",
    "connect_source",
]
