"""The archive folder: raw messages and documents stored under their SHA-256.

Content-addressed, so writing the same bytes twice is harmless; every file is
written to a temporary name, flushed to disk, then renamed into place, so a
reader never sees half a file, even after a crash.

A batch of files can share one flush to disk: ``put(..., sync=False)`` writes the
file under its temporary name and holds it back; ``sync()`` then makes every file
held back durable at once (one ``syncfs`` of the archive's file system on Linux,
else an fsync per file), renames each into place and makes the renames durable.
The contract for a caller that defers: call ``sync()`` before committing any
transaction that refers to a deferred file's path. Until then the path is where
the file *will* lie; nothing is there yet (``pending`` says which are waiting).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import itertools
import os
import secrets
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from resdesk.errors import StoreError


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL
TEMPORARY_PREFIX = ".incoming-"  # a temporary file's name begins so: written, not yet in place
STALE_INCOMING_SECONDS = 24 * 3600  # a temporary file lives while its batch is recorded: seconds
_MESSAGES, _MESSAGE_SUFFIX = "messages", ".eml"  # where raw messages lie, and as what


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _load_syncfs():
    """Linux's ``syncfs(fd)``: flush one file system's dirty data and journal in one call; None elsewhere."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return None
    syncfs.argtypes = [ctypes.c_int]
    syncfs.restype = ctypes.c_int
    return syncfs


_syncfs = _load_syncfs()


def _fsync_path(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sync_file_systems(folders: set[Path], files: list[Path]) -> None:
    """Make ``files`` (and every file in ``folders``' file systems) durable: one ``syncfs`` per file
    system where the platform has it, else one fsync per file."""
    if _syncfs is None:
        for path in files:
            _fsync_path(path)
        return
    seen: set[int] = set()
    for folder in folders:
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            device = os.fstat(descriptor).st_dev
            if device not in seen:
                seen.add(device)
                if _syncfs(descriptor) != 0:
                    error = ctypes.get_errno()
                    raise OSError(error, os.strerror(error), str(folder))
        finally:
            os.close(descriptor)


class Archive:
    """A folder of content-addressed files: ``messages/ab/abcd….eml``, ``documents/ab/abcd….pdf``."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._held: dict[Path, Path] = {}  # final path -> temporary file written but not yet synced
        self._run = f"{os.getpid()}-{secrets.token_hex(6)}"  # temporary names: this run's, never another's
        self._names = itertools.count()
        self._lock = threading.Lock()

    def path_for(self, section: str, digest: str, suffix: str) -> Path:
        return self.root / section / digest[:2] / f"{digest}{suffix}"

    def put(self, section: str, content: bytes, suffix: str, *, sync: bool = True) -> tuple[str, Path]:
        """Store ``content``; return its SHA-256 and where it lies.

        With ``sync=False`` the file is written under a temporary name and held back until
        ``sync()`` (see the module's contract). Raises StoreError when the folder cannot be written."""
        digest, target, temporary = self.stage(section, content, suffix)
        if temporary is None:
            return digest, target
        if not sync:
            self.adopt(target, temporary)
            return digest, target
        try:
            _fsync_path(temporary)
            os.replace(temporary, target)
            _fsync_path(target.parent)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise StoreError(f"The archive folder {self.root} cannot be written ({exc.strerror}).") from None
        return digest, target

    def stage(self, section: str, content: bytes, suffix: str) -> tuple[str, Path, Path | None]:
        """Write ``content`` under a temporary name beside where it will lie, its data flushed only by a
        later ``sync()``: (SHA-256, path, temporary file), the temporary None when the file is there
        already or held back by this archive. Another process may stage (the watcher's reader does);
        the file is in the archive once the archive that syncs it takes it up (``adopt``). StoreError when the
        folder cannot be written."""
        digest = sha256_hex(content)
        target = self.path_for(section, digest, suffix)
        with self._lock:
            if target in self._held:
                return digest, target, None
        try:
            if os.stat(target).st_size == len(content):
                return digest, target, None
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StoreError(f"The archive folder {self.root} cannot be written ({exc.strerror}).") from None
        temporary = target.parent / f"{TEMPORARY_PREFIX}{self._run}-{next(self._names)}"
        try:
            try:
                handle = os.open(temporary, _NEW_FILE, 0o600)
            except FileNotFoundError:  # the first file in its folder
                target.parent.mkdir(parents=True, exist_ok=True)
                handle = os.open(temporary, _NEW_FILE, 0o600)
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(content)
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StoreError(f"The archive folder {self.root} cannot be written ({exc.strerror}).") from None
        return digest, target, temporary

    def adopt(self, target: Path, temporary: Path) -> None:
        """Hold back a file ``stage`` wrote (in this process or another) until ``sync()`` puts it in
        place; one already held for the same path makes this copy redundant, and it is removed."""
        with self._lock:
            if target not in self._held:
                self._held[target] = temporary
                return
        temporary.unlink(missing_ok=True)

    @property
    def pending(self) -> list[Path]:
        """The paths written with ``sync=False`` and not yet made durable by ``sync()``."""
        with self._lock:
            return list(self._held)

    def sync(self) -> list[Path]:
        """Make every file held back by ``put(..., sync=False)`` durable and put it in place: flush
        their data to disk, rename each to its path, flush the renames. Returns the paths placed.

        Raises StoreError when the disk refuses; then no held file is left behind (the
        temporary files are removed) and a transaction referring to them must not commit."""
        with self._lock:
            held, self._held = self._held, {}
        if not held:
            return []
        folders = {target.parent for target in held}
        try:
            _sync_file_systems(folders, list(held.values()))
            for target, temporary in held.items():
                os.replace(temporary, target)
            if _syncfs is not None:
                _sync_file_systems(folders, [])
            else:
                for folder in folders:
                    _fsync_path(folder)
        except OSError as exc:
            for temporary in held.values():
                temporary.unlink(missing_ok=True)
            raise StoreError(f"The archive folder {self.root} cannot be written ({exc.strerror}).") from None
        return list(held)

    @contextmanager
    def batch(self) -> Iterator["Archive"]:
        """``with archive.batch():`` … ``put(..., sync=False)`` … — ``sync()`` when the block ends
        without an error. Files held back by a block that raised stay held until the next ``sync()``."""
        yield self
        self.sync()

    def put_message(self, raw: bytes, *, sync: bool = True) -> tuple[str, Path]:
        """Archive a raw message as ``.eml`` (``sync=False``: held back until ``sync()``)."""
        return self.put(_MESSAGES, raw, _MESSAGE_SUFFIX, sync=sync)

    def stage_message(self, raw: bytes) -> tuple[str, Path, Path | None]:
        """``stage`` a raw message where ``put_message`` would keep it."""
        return self.stage(_MESSAGES, raw, _MESSAGE_SUFFIX)

    def message_path(self, digest: str) -> Path:
        """Where a raw message with this SHA-256 lies (or will lie)."""
        return self.path_for(_MESSAGES, digest, _MESSAGE_SUFFIX)

    def put_document(self, content: bytes, filename: str) -> tuple[str, Path]:
        """Archive a document, keeping its file extension."""
        suffix = Path(filename).suffix.lower()
        if not suffix.replace(".", "").isalnum() or len(suffix) > 10:
            suffix = ".bin"
        return self.put("documents", content, suffix)

    def read(self, path: str | Path) -> bytes:
        return Path(path).read_bytes()

    def remove_stale_temporary_files(self, older_than: float = STALE_INCOMING_SECONDS) -> int:
        """Remove the temporary files (``.incoming-…``) that a process killed while it wrote left in the
        archive, those last written more than ``older_than`` seconds ago (one being written is seconds
        old); returns how many. Nothing else is touched; a folder or file that cannot be read or
        removed is left as it is (the files are harmless, and backups skip them)."""
        cutoff = time.time() - older_than
        removed = 0
        for section in (_MESSAGES, "documents"):
            for shard in _entries(self.root / section):
                if not shard.is_dir(follow_symlinks=False):
                    continue
                for entry in _entries(shard.path):
                    if not entry.name.startswith(TEMPORARY_PREFIX):
                        continue
                    try:
                        if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                            os.unlink(entry.path)
                            removed += 1
                    except OSError:
                        continue
        return removed


def _entries(folder: str | Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError:
        return []
