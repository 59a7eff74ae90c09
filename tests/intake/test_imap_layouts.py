"""IMAP folder names follow the server: the watcher files mail on real Dovecot in each layout."""

from __future__ import annotations

import pytest

from resdesk.cases import open_store
from resdesk.intake.ledger import Ledger
from resdesk.intake.process import IntakePolicy, IntakeProcessor
from resdesk.intake.sources import ImapSource
from resdesk.intake.sources.folders import FolderNaming
from resdesk.intake.watch import Watcher
from resdesk.protocols import default_registry
from tests.intake.mail import summary
from tests.services.dovecot import DovecotServer

OLDHAM = default_registry().get("oldham")


@pytest.fixture(scope="module", params=[
    ("slash", "Resdesk/Processed", "Resdesk/Quarantine"),
    ("maildir++", "Resdesk.Processed", "Resdesk.Quarantine"),
    ("courier", "INBOX.Resdesk.Processed", "INBOX.Resdesk.Quarantine"),
], ids=lambda p: p[0])
def layout(request):
    name, processed, quarantine = request.param
    server = DovecotServer(layout=name).start()
    yield server, processed, quarantine
    server.stop()


def test_the_watcher_files_mail_into_folders_named_the_servers_way(layout, tmp_path):
    """GIVEN a Dovecot whose personal namespace is delimited by '/', by '.' (Maildir++), or is
    'INBOX.' (Courier), holding a stage summary and a spoofed one WHEN the watcher drains with
    the settings' folders Resdesk/Processed and Resdesk/Quarantine THEN it creates them the
    server's way, files each message there and leaves the inbox empty."""
    server, processed, quarantine = layout
    user = server.new_user()
    server.append(user, summary(1, "escalated"))
    spoofed = summary(2, "resolved", n=2).replace(
        b"From: ", b"Authentication-Results: mx.partnership.example; dmarc=fail header.from=police.example\nFrom: ", 1
    )
    server.append(user, spoofed)
    store = open_store(f"sqlite:///{tmp_path / 'case.sqlite3'}", tmp_path / "archive")
    source = ImapSource("127.0.0.1", server.port, "none", user.username, user.password, use_idle=False)
    ledger = Ledger(store)
    policy = IntakePolicy(frozenset({"escalations@partnership.example"}), (), "mx.partnership.example", 1_000_000)
    watcher = Watcher(source, store, IntakeProcessor(store, ledger, OLDHAM, policy),
                      processed_folder="Resdesk/Processed", quarantine_folder="Resdesk/Quarantine",
                      max_bytes=1_000_000, ledger=ledger)
    try:
        assert watcher.acquire()
        report = watcher.drain()
        watcher.release()
    finally:
        source.close()
        store.close()
    assert (report.filed["done"], report.filed["quarantined"]) == (1, 1)
    with server.client(user) as client:
        counts = {folder: client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"]
                  for folder in ("INBOX", processed, quarantine)}
    assert counts == {"INBOX": 0, processed: 1, quarantine: 1}


@pytest.mark.parametrize("naming, written", [
    (FolderNaming("", "/"), "Resdesk/Processed"),
    (FolderNaming("", "."), "Resdesk.Processed"),
    (FolderNaming("INBOX.", "."), "INBOX.Resdesk.Processed"),
])
def test_a_settings_folder_name_is_written_with_the_servers_prefix_and_delimiter(naming, written):
    """GIVEN a server's personal namespace WHEN Resdesk/Processed is named for it THEN prefix and
    delimiter are the server's; INBOX and a name already under the prefix are kept as they are."""
    assert naming.server_name("Resdesk/Processed") == written
    assert naming.server_name("INBOX") == "INBOX"
    assert naming.server_name(written) == written
