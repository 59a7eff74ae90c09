"""Backing up and restoring the case file: the database and the archive, with a manifest of hashes.

A backup folder holds::

    manifest.json        what was copied, each file with its SHA-256 and size, the schema revision,
                         and the archive folder it came from
    resdesk.sqlite3      an online-consistent copy made through SQLite's backup API, or
    resdesk.pgdump       ``pg_dump --format=custom`` of the PostgreSQL database (one snapshot)
    archive/…            the archive's content-addressed files

The database is copied first, then the archive: archive files are written before the rows that
name them and never change, so every file a backed-up row names is in the backup, even while a
watcher is filing mail. ``restore`` checks every hash, refuses a target that is not empty,
restores, points the rows at the new archive folder, and verifies the audit chain and every
archived file against its recorded SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from resdesk.cases.archive import TEMPORARY_PREFIX
from resdesk.cases.audit import verify_chain
from resdesk.cases.engine import create_store_engine, current_revision, is_empty
from resdesk.cases.models import Document, Message
from resdesk.cases.store import open_store
from resdesk.errors import StoreError, UsageError

MANIFEST = "manifest.json"
SQLITE_FILE, PG_FILE, ARCHIVE_DIR = "resdesk.sqlite3", "resdesk.pgdump", "archive"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as libpq reads it (``postgresql://…``, no driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str], what: str) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise StoreError(f"{command[0]} is not installed; {what} needs PostgreSQL's client tools.") from None
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr or "").strip().splitlines()[-1:] or ["no message"]
        raise StoreError(f"{what} failed ({last[0]}).") from None


def _empty_folder(path: Path, what: str) -> None:
    if path.exists() and any(path.iterdir()):
        raise UsageError(f"The {what} {path} is not empty; give an empty or new folder.")
    path.mkdir(parents=True, exist_ok=True)


def backup(url: str, archive: str | Path, destination: str | Path, *, now: datetime | None = None) -> dict:
    """Copy the case file at ``url`` and its ``archive`` into the empty folder ``destination``;
    return the manifest written there. Raises ``UsageError`` for a folder that is not empty,
    ``StoreError`` when the database cannot be copied."""
    destination = Path(destination)
    _empty_folder(destination, "backup folder")
    engine = create_store_engine(url)
    try:
        revision = current_revision(engine)
        backend = engine.dialect.name
        if backend == "sqlite":
            database = destination / SQLITE_FILE
            if not Path(engine.url.database or "").is_file():
                raise StoreError(f"There is no case file at {engine.url.database} to back up.")
            source = sqlite3.connect(f"file:{engine.url.database}?mode=ro", uri=True, timeout=30)
            target = sqlite3.connect(database)
            try:
                with target:
                    source.backup(target)
            finally:
                target.close()
                source.close()
        else:
            database = destination / PG_FILE
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={database}", _libpq(url)], "pg_dump")
    finally:
        engine.dispose()
    archive = Path(archive).absolute()
    files = {database.name: database}
    if archive.is_dir():
        for path in sorted(archive.rglob("*")):
            if path.is_file() and not path.name.startswith(TEMPORARY_PREFIX):
                target = destination / ARCHIVE_DIR / path.relative_to(archive)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
                files[str(target.relative_to(destination))] = target
    manifest = {
        "created_at": (now or datetime.now(timezone.utc)).isoformat(),
        "backend": backend,
        "schema": revision,
        "archive_root": str(archive),
        "files": {name: {"sha256": _sha256(path), "size": path.stat().st_size} for name, path in files.items()},
    }
    (destination / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


@dataclass
class RestoreReport:
    cases: int = 0
    audit_entries: int = 0
    files: int = 0
    chain_ok: bool = False
    missing_or_changed: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"cases": self.cases, "audit_entries": self.audit_entries, "files": self.files,
                "chain_ok": self.chain_ok, "missing_or_changed": self.missing_or_changed}


def check_manifest(source: Path) -> dict:
    """The backup's manifest, after checking every file's SHA-256; ``StoreError`` names the first bad one."""
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{source} holds no {MANIFEST}; it is not a Resolution Desk backup.") from None
    for name, expected in manifest["files"].items():
        path = source / name
        if not path.is_file() or _sha256(path) != expected["sha256"]:
            raise StoreError(f"The backup file {path} is missing or does not match its manifest; nothing was restored.")
    return manifest


def restore(source: str | Path, url: str, archive: str | Path) -> RestoreReport:
    """Restore the backup in ``source`` into the empty database at ``url`` and the empty folder
    ``archive``, then verify it. Raises ``UsageError`` for a target that is not empty,
    ``StoreError`` for a backup that does not match its manifest."""
    source = Path(source)
    manifest = check_manifest(source)
    archive = Path(archive).absolute()
    engine = create_store_engine(url)
    try:
        if not is_empty(engine):
            raise UsageError("The database to restore into is not empty; restore into a new one.")
        backend = engine.dialect.name
        database = engine.url.database
    finally:
        engine.dispose()
    if backend != manifest["backend"]:
        raise UsageError(f"The backup is of a {manifest['backend']} case file; the settings name {backend}.")
    _empty_folder(archive, "archive folder")
    if backend == "sqlite":
        shutil.copyfile(source / SQLITE_FILE, database)
    else:
        _run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_libpq(url)}", str(source / PG_FILE)],
             "pg_restore")
    for name in manifest["files"]:
        if name.startswith(ARCHIVE_DIR + "/"):
            target = archive / Path(name).relative_to(ARCHIVE_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, target)
    return _repoint_and_verify(url, archive, manifest["archive_root"])


def _repoint_and_verify(url: str, archive: Path, old_root: str) -> RestoreReport:
    store = open_store(url, archive)
    report = RestoreReport()
    try:
        with store.transaction() as tx:
            for column in (Document.path, Message.archive_path):
                table = column.class_
                rows = tx.session.execute(select(table.id, column).where(column.like(old_root + "/%"))).all()
                for row_id, path in rows:
                    tx.session.execute(update(table).where(table.id == row_id)
                                       .values({column.key: str(archive / Path(path).relative_to(old_root))}))
        with store.transaction() as tx:
            from resdesk.cases.models import AuditEntry, Case

            report.cases = len(tx.session.execute(select(Case.id)).all())
            report.audit_entries = len(tx.session.execute(select(AuditEntry.seq)).all())
            for path, digest in [*tx.session.execute(select(Document.path, Document.sha256)).all(),
                                 *tx.session.execute(select(Message.archive_path, Message.sha256)
                                                     .where(Message.archive_path.is_not(None))).all()]:
                report.files += 1
                if not Path(path).is_file() or _sha256(Path(path)) != digest:
                    report.missing_or_changed.append(path)
        report.chain_ok = verify_chain(store) == (True, None)
    finally:
        store.close()
    return report


__all__ = ["RestoreReport", "backup", "check_manifest", "restore"]
