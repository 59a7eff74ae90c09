"""What the watcher needs from a mailbox, whatever kind it is.

A *mail source* watches one folder of one account. Its whole surface:

``snapshot() -> (uidvalidity, uids)``
    The folder's UIDVALIDITY and the UIDs of every message in it now, in arrival
    order (IMAP: ascending UID; Maildir: ascending unique file name, which starts
    with the delivery time). Messages a colleague flagged ``\\Deleted`` are listed
    like any other; messages this product already filed are not.
``fetch(uids, max_bytes) -> Iterator[FetchedMessage]``
    The messages in ``uids`` order, fetched in batches, without marking anything
    ``\\Seen``. A message larger than ``max_bytes`` comes back with ``raw=None``
    (its size is known, its content is not downloaded). UIDs that have vanished
    meanwhile are skipped.
``move(ref, destination)``
    Files one message into ``destination`` (a folder path like
    ``"Resdesk/Processed"``, created when missing). IMAP uses MOVE, or COPY plus
    the ``$Resdesk-Filed`` keyword where the server lacks MOVE; it never
    EXPUNGEs, so other people's ``\\Deleted`` mail is untouched. Maildir renames
    the file. Nothing is ever deleted. Moving a message that is no longer in the
    folder does nothing; a ``ref`` from an older UIDVALIDITY raises
    ``IntakeError`` rather than moving whatever holds that UID now.
``move_many(refs, destination)``
    ``move`` for many messages of one snapshot at once (one IMAP command).
``wait(timeout) -> bool``
    Blocks until mail the last ``snapshot`` did not list may be in the folder
    (IDLE push, or a poll that finds it), or ``timeout`` seconds pass.
    ``True`` means "take a new snapshot"; it is also ``True`` at once when no
    snapshot was taken yet or the connection had to be reopened. ``False``
    means the timeout passed with nothing new.
``remove_copies(folder, copies) -> int``
    Deletes from ``folder`` the messages whose SHA-256 is a key of ``copies``
    (values: their Message-IDs), for retention disposal only; the one deletion
    the product makes. IMAP finds them by Message-ID and expunges exactly those
    UIDs.
``close()``
    Logs out and releases the connection; the source can't be used after.

Errors are ``IntakeError`` (refused login, untrusted certificate, lost
connection that did not come back, folder that cannot be read) or
``UsageError`` (settings that cannot work, such as plain IMAP to a remote
host). A source is used by one thread at a time.
"""

from __future__ import annotations

import functools
import hashlib
import typing
from collections.abc import Iterator
from dataclasses import dataclass

FILED_KEYWORD = "$Resdesk-Filed"
"""The keyword put on a message copied (not moved) to a folder by a server without MOVE."""


@dataclass(frozen=True)
class MessageRef:
    """Where a message is, exactly: the ledger's key."""

    account: str
    folder: str
    uidvalidity: int
    uid: str  # the IMAP UID in digits, or the Maildir unique name


@dataclass(frozen=True)
class FetchedMessage:
    """One message as fetched: ``raw`` is None when it was larger than the limit."""

    ref: MessageRef
    raw: bytes | None
    size: int
    flags: tuple[str, ...]

    @property
    def oversized(self) -> bool:
        return self.raw is None

    @functools.cached_property
    def sha256(self) -> str | None:
        """The SHA-256 of ``raw`` (hex; the ledger's and the archive's key), worked out once; None
        when the message was not downloaded."""
        return hashlib.sha256(self.raw).hexdigest() if self.raw is not None else None


@typing.runtime_checkable
class MailSource(typing.Protocol):
    """One watched folder of one mailbox (see the module docstring for the contract)."""

    account: str
    folder: str

    def snapshot(self) -> tuple[int, list[str]]: ...

    def fetch(self, uids: list[str], max_bytes: int) -> Iterator[FetchedMessage]: ...

    def move(self, ref: MessageRef, destination: str) -> None: ...

    def move_many(self, refs: list[MessageRef], destination: str) -> None: ...

    def wait(self, timeout: float) -> bool: ...

    def remove_copies(self, folder: str, copies: dict[str, str | None]) -> int: ...

    def close(self) -> None: ...


def check_refs_belong(source: MailSource, refs: list[MessageRef]) -> None:
    """Refuse references to another account's or folder's messages."""
    for ref in refs:
        if (ref.account, ref.folder) != (source.account, source.folder):
            from resdesk.errors import IntakeError

            raise IntakeError(f"Message {ref.uid} belongs to {ref.account} {ref.folder}, not this source.")
