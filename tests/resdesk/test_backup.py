"""resdesk backup / restore: an online-consistent copy taken while the watcher files mail, restored and verified."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from resdesk.cases import open_store, verify_chain
from resdesk.cases.backup import backup, restore
from resdesk.cases.engine import create_store_engine
from resdesk.cases.models import Message
from resdesk.cli import main
from resdesk.errors import StoreError, UsageError
from tests.intake.mail import summary

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 150


@pytest.fixture(params=["sqlite", "postgresql"])
def urls(request, tmp_path):
    """The live case file's URL and an empty one to restore into."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'live' / 'case.sqlite3'}", f"sqlite:///{tmp_path / 'restored' / 'case.sqlite3'}"
    postgres = request.getfixturevalue("postgres")
    return postgres.new_database(), postgres.new_database()


def _filed(url: str) -> int:
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(Message).where(Message.state == "done")).scalar()
    except Exception:
        return 0
    finally:
        engine.dispose()


def test_a_backup_taken_while_the_watcher_drains_restores_into_empty_folders_and_verifies(urls, tmp_path):
    """GIVEN a watcher draining 150 stage summaries from a Maildir into the case file
    WHEN `resdesk backup` runs while it is part-way through, and the backup is restored into an empty database and
    archive folder THEN the manifest's hashes match, every case's audit chain verifies, every archived file the
    restored rows name is there with its SHA-256, and the restored case file holds what was filed by then."""
    live, restored = urls
    maildir = tmp_path / "maildir" / "new"
    maildir.mkdir(parents=True)
    for n in range(MESSAGES):
        (maildir / f"{1700000000 + n}.M{n}P1.host").write_bytes(summary(1, None, n=n))
    env = dict(os.environ, RESDESK_STORAGE__DATABASE=live, RESDESK_STORAGE__ARCHIVE=str(tmp_path / "live-archive"),
               RESDESK_MAILBOX__KIND="maildir", RESDESK_MAILBOX__PATH=str(tmp_path / "maildir"),
               RESDESK_SMTP__ENABLED="false")
    open_store(live, tmp_path / "live-archive").close()
    with (tmp_path / "watch.log").open("wb") as log:
        watcher = subprocess.Popen([sys.executable, "-m", "resdesk", "watch", "--once"], cwd=tmp_path, env=env,
                                   stdout=subprocess.DEVNULL, stderr=log)
    try:
        while _filed(live) < 10 and watcher.poll() is None:
            time.sleep(0.05)
        manifest = backup(live, tmp_path / "live-archive", tmp_path / "backup")
        still_draining = watcher.poll() is None
    finally:
        assert watcher.wait(timeout=300) == 0, (tmp_path / "watch.log").read_text()
    assert still_draining, "the backup should have been taken while the watcher was filing mail"
    backed_up = sum(1 for name in manifest["files"] if name.endswith(".eml"))
    assert 10 <= backed_up and _filed(live) == MESSAGES

    report = restore(tmp_path / "backup", restored, tmp_path / "restored-archive")
    assert report.chain_ok and report.missing_or_changed == [] and report.files >= 10
    store = open_store(restored, tmp_path / "restored-archive")
    try:
        assert verify_chain(store) == (True, None)
        with store.transaction() as tx:
            paths = [m.archive_path for m in tx.session.execute(select(Message)).scalars() if m.archive_path]
        assert paths and all(p.startswith(str(tmp_path / "restored-archive")) for p in paths)
    finally:
        store.close()


def test_restore_refuses_a_changed_backup_and_a_target_that_is_not_empty(sqlite_url, tmp_path, oldham):
    """GIVEN a backup WHEN one archived file in it is altered THEN restore refuses it and restores nothing;
    GIVEN a target case file that already exists WHEN restoring THEN it is refused as not empty."""
    store = open_store(sqlite_url, tmp_path / "archive")
    with store.transaction() as tx:
        case = tx.create_case(oldham, __import__("datetime").datetime(2026, 5, 1, 9, tzinfo=__import__("datetime").timezone.utc))
        tx.add_document(case, "notice", "n.pdf", "application/pdf", b"%PDF notice")
    store.close()
    backup(sqlite_url, tmp_path / "archive", tmp_path / "backup")
    with pytest.raises(UsageError, match="not empty"):
        restore(tmp_path / "backup", sqlite_url, tmp_path / "elsewhere")
    with pytest.raises(UsageError, match="not empty"):
        backup(sqlite_url, tmp_path / "archive", tmp_path / "backup")
    victim = next((tmp_path / "backup" / "archive").rglob("*.pdf"))
    victim.write_bytes(b"%PDF altered")
    target = f"sqlite:///{tmp_path / 'new' / 'case.sqlite3'}"
    with pytest.raises(StoreError, match="does not match its manifest"):
        restore(tmp_path / "backup", target, tmp_path / "new-archive")
    assert not (tmp_path / "new-archive").exists()


def test_the_commands_back_up_and_restore_through_the_settings(sqlite_url, tmp_path, capsys, oldham):
    """GIVEN a case file named by a settings file WHEN `resdesk backup DIR` and then `resdesk restore DIR` with
    settings naming an empty case file THEN both succeed and the restore reports a verified chain."""
    store = open_store(sqlite_url, tmp_path / "archive")
    with store.transaction() as tx:
        tx.audit("resdesk", "test-entry", None, {})
    store.close()
    source = tmp_path / "source.toml"
    source.write_text(f'[storage]\ndatabase = "{sqlite_url}"\narchive = "{tmp_path / "archive"}"\n')
    target = tmp_path / "target.toml"
    target.write_text(f'[storage]\ndatabase = "sqlite:///{tmp_path / "t" / "case.sqlite3"}"\n'
                      f'archive = "{tmp_path / "t" / "archive"}"\n')
    assert main(["backup", str(tmp_path / "b"), "--config", str(source)]) == 0
    capsys.readouterr()
    assert main(["restore", str(tmp_path / "b"), "--config", str(target), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["chain_ok"] is True
