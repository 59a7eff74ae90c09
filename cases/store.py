"""The case file: ``open_store(url)``, and ``Store.transaction()`` for its unit of work (``Tx``,
``cases.tx``).

Everything that changes the case file happens inside ``store.transaction()``;
the transaction commits when the block ends and rolls back if it raises, so a
process killed at any instant leaves either all of a change or none of it.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from resdesk.cases.archive import TEMPORARY_PREFIX, Archive
from resdesk.cases.due import mark_changed_cases
from resdesk.cases.engine import create_store_engine, ensure_current, upgrade_to_head
from resdesk.cases import pending
from resdesk.cases.tx import SYSTEM_ACTOR, Tx, UnknownCase
from resdesk.errors import StoreError

__all__ = ["SYSTEM_ACTOR", "Store", "Tx", "UnknownCase", "open_store"]


class _CaseFileSession(Session):
    """A session on the case file: every flush marks the cases it changes for planning (``cases.due``),
    and the rows it holds (``cases.pending``) are written before anything reads them."""


event.listen(_CaseFileSession, "before_flush", mark_changed_cases)
pending.listen(_CaseFileSession)


class Store:
    """An open case file: a database and an archive folder."""

    def __init__(self, engine: Engine, archive: Archive, url: str):
        self.engine = engine
        self.archive = archive
        self.url = url
        self._local = threading.local()
        self._syncing: ThreadPoolExecutor | None = None  # sync_archive_begin's one thread, made on first use

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A unit of work: commits at the end of the block, rolls back if it raises.

        Units of work do not nest: a second one opened inside the first, in the same
        thread, would wait on the first's lock forever, so it is refused at once.
        Pass the open ``Tx`` along instead.
        """
        if getattr(self._local, "open", False):
            raise StoreError(
                "A unit of work on the case file was opened inside another; pass the open transaction along instead."
            )
        session = _CaseFileSession(self.engine, expire_on_commit=False)
        self._local.open = True
        try:
            with session.begin():
                yield Tx(self, session)
        except OperationalError as exc:
            raise StoreError(f"The case file could not be written ({exc.orig}).") from exc
        finally:
            self._local.open = False
            session.close()

    def archive_message(self, raw: bytes, *, sync: bool = True) -> tuple[str, Path]:
        """Archive a raw message as ``.eml`` under its SHA-256; return (sha256, path).

        By default the file is durably in place when this returns. ``sync=False`` holds it back
        for a batch (``cases.archive``): call ``sync_archive()`` before committing any transaction
        that records the returned path; nothing lies there until then. StoreError when the archive
        folder cannot be written."""
        return self.archive.put_message(raw, sync=sync)

    def adopt_archived(self, staged: tuple[str, Path, Path | None]) -> tuple[str, Path]:
        """Hold back a message another process staged in the archive (``Archive.stage``: its SHA-256,
        path and temporary file) as ``archive_message(..., sync=False)`` would; returns (sha256, path)."""
        digest, target, temporary = staged
        target = self.archive.message_path(digest)  # where this archive keeps it
        if temporary is not None:
            temporary = Path(temporary)
            if temporary.parent != target.parent or not temporary.name.startswith(TEMPORARY_PREFIX):
                raise StoreError(f"A staged copy at {temporary} is not in the archive beside {target}.")
            self.archive.adopt(target, temporary)
        return digest, target

    def sync_archive_begin(self) -> "Future[list[Path]]":
        """``sync_archive`` on a thread of its own, so the flush to disk overlaps the caller's work:
        the caller takes ``.result()`` (which raises ``sync_archive``'s StoreError) before committing
        anything that records the messages held back until now. Messages held back after this call
        wait for the next sync."""
        if self._syncing is None:
            self._syncing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="resdesk-archive-sync")
        return self._syncing.submit(self.archive.sync)

    def sync_archive(self) -> list[Path]:
        """Put every message held back by ``sync=False`` durably in place, with one flush to disk;
        returns their paths. StoreError when the disk refuses: commit nothing that records them."""
        return self.archive.sync()

    def close(self) -> None:
        """Put any message still held back in place (harmless if unrecorded), then release the database."""
        try:
            if self._syncing is not None:
                self._syncing.shutdown(wait=True)
            self.archive.sync()
        finally:
            self.engine.dispose()


def open_store(url: str, archive: str | Path = "var/archive", *, upgrade: bool = False) -> Store:
    """Open the case file at ``url``; an empty database is created at the newest schema.

    An existing case file at an older schema is refused with ``SchemaOutOfDate`` unless
    ``upgrade`` is true (``resdesk migrate``), which runs the missing migrations first.
    Raises ``StoreError`` when the database cannot be reached."""
    engine = create_store_engine(url)
    try:
        if upgrade:
            upgrade_to_head(engine)
        else:
            ensure_current(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"The case file at {url} could not be opened ({exc}).") from exc
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, Archive(archive), url)
