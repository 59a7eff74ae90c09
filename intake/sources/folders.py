"""IMAP folder names as the server writes them (RFC 2342 NAMESPACE, RFC 3501 LIST).

Settings name folders with ``/`` between levels (``Resdesk/Processed``). A server has its own
hierarchy delimiter and may put personal folders under a prefix:

- Dovecot with ``separator = /``: ``Resdesk/Processed``;
- Dovecot's default Maildir++ layout, Cyrus: delimiter ``.`` → ``Resdesk.Processed``;
- Courier, or Dovecot configured like it: personal namespace ``INBOX.`` → ``INBOX.Resdesk.Processed``.

``FolderNaming.server_name`` is pure; ``folder_naming`` asks the server once per connection.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FolderNaming", "folder_naming"]

#: The level separator folder names in the settings use.
SETTINGS_DELIMITER = "/"


@dataclass(frozen=True)
class FolderNaming:
    """A server's personal namespace ``prefix`` (may be empty) and hierarchy ``delimiter``."""

    prefix: str = ""
    delimiter: str = SETTINGS_DELIMITER

    def server_name(self, name: str) -> str:
        """``name`` (levels separated by ``/``) as this server writes it.

        INBOX and a name already written the server's way (starting with the prefix) are kept.
        """
        if name.upper() == "INBOX" or (self.prefix and name.startswith(self.prefix)):
            return name
        levels = [level for level in name.split(SETTINGS_DELIMITER) if level]
        return self.prefix + self.delimiter.join(levels)


def folder_naming(client) -> FolderNaming:
    """The personal namespace of a logged-in ``imapclient.IMAPClient``, from NAMESPACE when the
    server offers it, else the delimiter ``LIST "" ""`` reports (RFC 3501 §6.3.8)."""
    if client.has_capability("NAMESPACE"):
        personal = client.namespace().personal or ()
        if personal:
            prefix, delimiter = personal[0]
            return FolderNaming(_text(prefix), _text(delimiter) or SETTINGS_DELIMITER)
    for _flags, delimiter, _name in client.list_folders("", ""):
        if delimiter:
            return FolderNaming("", _text(delimiter))
    return FolderNaming()


def _text(value) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

