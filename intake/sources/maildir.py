"""A local Maildir as a mail source: the embedded default (``resdesk demo``).

Layout is Maildir++, as Dovecot and Courier use it, so the same folder can also
be served over IMAP: the watched ``INBOX`` is the Maildir itself, and a folder
``"Resdesk/Processed"`` is the sub-Maildir ``.Resdesk.Processed`` inside it
(with ``tmp/``, ``new/``, ``cur/`` and a ``maildirfolder`` marker).

- A message's UID is the unique part of its file name (before ``:2,``); both
  ``new/`` and ``cur/`` are read, ``tmp/`` never.
- UIDVALIDITY is drawn at random the first time a folder is read and kept in the
  folder's ``resdesk-uidvalidity`` file, so a Maildir that is deleted and made
  again gets a new one, exactly as an IMAP server would do.
- Moving is a hard link into the destination then removing the old name (an
  atomic rename that never overwrites); a crash between the two leaves the
  message in both places, never in neither. Nothing is ever deleted.
- ``wait`` polls the folder's ``new/`` and ``cur/`` every ``poll_seconds`` and
  returns True when a name the last snapshot did not list is there, or the
  folder was removed or recreated.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

from resdesk.intake.sources.base import FetchedMessage, MessageRef, check_refs_belong
from resdesk.errors import IntakeError

UIDVALIDITY_FILE = "resdesk-uidvalidity"
_SUBDIRS = ("new", "cur")
_INFO_FLAGS = {
    "D": "\\Draft", "F": "\\Flagged", "P": "$Forwarded", "R": "\\Answered", "S": "\\Seen", "T": "\\Deleted",
}


def folder_path(root: Path, folder: str) -> Path:
    """The Maildir++ directory of an IMAP-style folder path under ``root``."""
    if folder.upper() == "INBOX":
        return root
    parts = folder.split("/")
    if any(not part or "." in part or part in {"tmp", "new", "cur"} or "\0" in part for part in parts):
        raise IntakeError(
            f"The Maildir folder name '{folder}' cannot be stored (empty part, '.' or reserved name)."
        )
    return root / ("." + ".".join(parts))


def unique_name(file_name: str) -> str:
    """The Maildir unique name: the file name without its ``:2,FLAGS`` info."""
    return file_name.split(":", 1)[0]


# Delivery agents name a file ``<seconds>.<parts>.<host>``, the parts including ``M<microseconds>``
# (Dovecot, Python's mailbox, Postfix; https://cr.yp.to/proto/maildir.html). The microseconds are
# not zero-padded, so names sort as text out of delivery order within one second.
_DELIVERED_AT = re.compile(r"(\d{1,12})\.(?:[^.]{0,200}?M(\d{1,9}))?")


def delivery_order(name: str) -> tuple[int, int, int, str]:
    """A sort key putting unique names in the order they were delivered: seconds, then
    microseconds, compared as numbers; names of another shape after those, by name."""
    match = _DELIVERED_AT.match(name)
    if match is None:
        return (1, 0, 0, name)
    return (0, int(match.group(1)), int(match.group(2) or 0), name)


def flags_of(file_name: str) -> tuple[str, ...]:
    _, _, info = file_name.partition(":2,")
    return tuple(_INFO_FLAGS[letter] for letter in sorted(set(info)) if letter in _INFO_FLAGS)


def _make_maildir(path: Path, subfolder: bool) -> None:
    for sub in ("tmp", "new", "cur"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    if subfolder:
        (path / "maildirfolder").touch(exist_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class MaildirSource:
    """One folder of a local Maildir (created when missing)."""

    def __init__(self, path: str | Path, folder: str = "INBOX", *, account: str | None = None,
                 poll_seconds: float = 0.2):
        self.root = Path(path).absolute()
        self.folder = folder
        self.account = account or f"maildir:{self.root}"
        self.poll_seconds = poll_seconds
        self.directory = folder_path(self.root, folder)
        _make_maildir(self.root, subfolder=False)
        _make_maildir(self.directory, subfolder=self.directory != self.root)
        self._known: tuple[int, set[str]] | None = None  # what the last snapshot saw

    # -- reading ----------------------------------------------------------------------------------

    def _uidvalidity(self) -> int:
        """The folder's UIDVALIDITY, drawn once and kept in a file beside the mail."""
        file = self.directory / UIDVALIDITY_FILE
        try:
            if not file.exists():
                candidate = self.directory / "tmp" / f"{UIDVALIDITY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
                candidate.write_text(f"{secrets.randbelow(2**31 - 2) + 1}\n")
                try:
                    os.link(candidate, file)  # first writer wins; others read what it wrote
                except FileExistsError:
                    pass
                finally:
                    candidate.unlink()
            return int(file.read_text().strip())
        except FileNotFoundError:
            raise IntakeError(f"The Maildir folder {self.directory} is missing (was it removed?).") from None
        except ValueError:
            raise IntakeError(f"{file} does not hold a number; restore it or remove it to start anew.") from None

    def _entries(self, directory: Path | None = None) -> dict[str, Path]:
        directory = directory or self.directory
        entries: dict[str, Path] = {}
        for sub in _SUBDIRS:
            try:
                names = os.listdir(directory / sub)
            except FileNotFoundError:
                raise IntakeError(f"The Maildir folder {directory} has no {sub}/ (was it removed?).") from None
            for name in names:
                if not name.startswith("."):
                    entries[unique_name(name)] = directory / sub / name
        return entries

    def snapshot(self) -> tuple[int, list[str]]:
        uidvalidity = self._uidvalidity()
        entries = self._entries()
        self._known = (uidvalidity, set(entries))
        return uidvalidity, sorted(entries, key=delivery_order)

    def fetch(self, uids: list[str], max_bytes: int) -> Iterator[FetchedMessage]:
        uidvalidity = self._uidvalidity()
        entries = self._entries()
        for uid in uids:
            found = self._read(uid, entries, max_bytes)
            if found is None:
                entries = self._entries()  # a mail program may have moved it from new/ to cur/
                found = self._read(uid, entries, max_bytes)
            if found is not None:
                raw, size, path = found
                yield FetchedMessage(MessageRef(self.account, self.folder, uidvalidity, uid), raw, size,
                                     flags_of(path.name))

    @staticmethod
    def _read(uid: str, entries: dict[str, Path], max_bytes: int) -> tuple[bytes | None, int, Path] | None:
        path = entries.get(uid)
        if path is None:
            return None
        try:
            size = path.stat().st_size
            raw = path.read_bytes() if size <= max_bytes else None
        except FileNotFoundError:
            return None
        return raw, size, path

    # -- filing -----------------------------------------------------------------------------------

    def prepare_folder(self, folder: str) -> None:
        """Create the Maildir++ folder ``folder`` unless it exists."""
        target = folder_path(self.root, folder)
        _make_maildir(target, subfolder=target != self.root)

    def move(self, ref: MessageRef, destination: str) -> None:
        self.move_many([ref], destination)

    def move_many(self, refs: list[MessageRef], destination: str) -> None:
        if not refs:
            return
        check_refs_belong(self, refs)
        for ref in refs:
            if ref.uidvalidity != self._uidvalidity():
                raise IntakeError(
                    f"Message {ref.uid} was listed under UIDVALIDITY {ref.uidvalidity}; the folder "
                    f"{self.folder} has been recreated since, so it is not moved."
                )
        target_dir = folder_path(self.root, destination)
        if target_dir == self.directory:
            return
        _make_maildir(target_dir, subfolder=target_dir != self.root)
        entries = self._entries()
        touched: set[Path] = set()
        for ref in refs:
            for _attempt in range(3):
                source = entries.get(ref.uid)
                if source is None:
                    break  # already filed (or moved away by someone else): nothing to do
                target = target_dir / source.parent.name / source.name
                try:
                    self._link_then_unlink(source, target)
                except FileNotFoundError:
                    entries = self._entries()  # renamed under us (new/ -> cur/, flags changed): look again
                    continue
                touched.update((target.parent, source.parent))
                break
            else:
                raise IntakeError(f"Message {ref.uid} kept changing name while being moved to {destination}.")
        for directory in sorted(touched):
            _fsync_dir(directory)

    @staticmethod
    def _link_then_unlink(source: Path, target: Path) -> None:
        try:
            os.link(source, target)
        except FileExistsError:
            if not os.path.samefile(source, target):
                raise IntakeError(f"{target} already exists and is another message; nothing was moved.") from None
        except PermissionError:  # file systems without hard links
            if target.exists():
                raise IntakeError(f"{target} already exists; nothing was moved.") from None
            os.rename(source, target)
            return
        os.unlink(source)

    # -- waiting ----------------------------------------------------------------------------------

    def remove_copies(self, folder: str, copies: dict[str, str | None]) -> int:
        """Delete the messages in ``folder`` whose SHA-256 is a key of ``copies`` (retention
        disposal, the only deletion this product makes); return how many were deleted."""
        directory = folder_path(self.root, folder)
        if not directory.is_dir():
            return 0
        removed = 0
        for path in self._entries(directory).values():
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except FileNotFoundError:
                continue
            if digest in copies:
                path.unlink(missing_ok=True)
                removed += 1
        if removed:
            _fsync_dir(directory / "cur")
            _fsync_dir(directory / "new")
        return removed

    def _changed_since_snapshot(self) -> bool:
        if self._known is None:
            return True
        try:
            uidvalidity = int((self.directory / UIDVALIDITY_FILE).read_text())
            names = set(self._entries())
        except (OSError, ValueError, IntakeError):
            return True  # removed or being recreated: the next snapshot tells
        known_validity, known_names = self._known
        return uidvalidity != known_validity or bool(names - known_names)

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            if self._changed_since_snapshot():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(self.poll_seconds, left))

    def close(self) -> None:
        self._known = None
