"""The case file's unit of work: references, parties, events, documents, the archive."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resdesk.cases import Archive, verify_chain
from resdesk.cases.models import AuditEntry

AT = datetime(2026, 4, 14, 10, 30, tzinfo=timezone.utc)


def test_references_count_up_per_prefix_and_year(store, oldham):
    """GIVEN an empty case file WHEN cases are opened in 2026 and 2027 THEN each year counts from 0001."""
    with store.transaction() as tx:
        refs = [tx.create_case(oldham, AT).ref for _ in range(3)]
        refs.append(tx.create_case(oldham, datetime(2027, 1, 4, 9, tzinfo=timezone.utc)).ref)
    assert refs == ["OLD-2026-0001", "OLD-2026-0002", "OLD-2026-0003", "OLD-2027-0001"]


def test_a_rolled_back_transaction_leaves_nothing(store, oldham):
    """GIVEN a unit of work that fails part way WHEN it ends THEN neither the case nor its audit entry remain."""
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.create_case(oldham, AT)
            raise RuntimeError("stop")
    with store.transaction() as tx:
        assert tx.all_cases() == []
        assert tx.session.query(AuditEntry).count() == 0


def test_recording_summaries_updates_the_case_and_its_events(store, oldham):
    """GIVEN a new case WHEN stage 1 is escalated and stage 2 resolved THEN the case is resolved with its events in order."""
    later = datetime(2026, 4, 16, 11, tzinfo=timezone.utc)
    with store.transaction() as tx:
        case = tx.create_case(oldham, AT, child_name="Zoë O'Brien", child_dob=date(2015, 4, 3))
        tx.record_stage_summary(case, oldham, 1, "escalated", AT, message_id="<a@x>")
        tx.record_stage_summary(case, oldham, 2, "resolved", later, message_id="<b@x>")
        ref = case.ref
    with store.transaction() as tx:
        case = tx.require_case(ref)
        assert (case.status, case.stage, case.resolved_at) == ("resolved", 2, later)
        assert [(e.kind, e.stage) for e in case.events] == [
            ("stage-summary", 1), ("stage-entered", 1), ("stage-entered", 2), ("stage-summary", 2), ("resolved", 2)
        ]
        assert case.child_name == "Zoë O'Brien"
    assert verify_chain(store) == (True, None)


def test_the_same_email_address_is_one_party(store, oldham):
    """GIVEN a party WHEN the same address is added again with an agency THEN there is one party with the agency."""
    with store.transaction() as tx:
        case = tx.create_case(oldham, AT)
        tx.add_party(case, name="Sam Jones", email="Sam.Jones@school.example")
        tx.add_party(case, email="sam.jones@school.example", agency="Greenfield Primary")
        tx.add_party(case, email="dr.k@nhs.example", agency="NHS")
        assert [(p.email, p.agency) for p in case.parties] == [
            ("Sam.Jones@school.example", "Greenfield Primary"), ("dr.k@nhs.example", "NHS")
        ]


def test_documents_are_archived_by_hash_with_an_audit_entry(store, oldham):
    """GIVEN a generated PDF WHEN filed on a case THEN it lies in the archive under its SHA-256 and the chain records it."""
    content = b"%PDF-1.7\n% a notice\n"
    with store.transaction() as tx:
        case = tx.create_case(oldham, AT)
        document = tx.add_document(case, "acknowledgement", "ack OLD-2026-0001.pdf", "application/pdf", content)
        path, digest = Path(document.path), document.sha256
    assert digest == hashlib.sha256(content).hexdigest()
    assert path.read_bytes() == content and path.name == f"{digest}.pdf"
    with store.transaction() as tx:
        entry = tx.session.query(AuditEntry).filter_by(action="document-archived").one()
        assert entry.payload["sha256"] == digest and entry.case_ref == "OLD-2026-0001"


def test_raw_messages_are_archived_as_eml(store):
    """GIVEN a raw message WHEN archived twice THEN one .eml file named by its SHA-256 holds exactly its bytes."""
    raw = b"From: a@b.example\r\nSubject: x\r\n\r\nbody\r\n"
    digest, path = store.archive_message(raw)
    again, same = store.archive_message(raw)
    assert (digest, path) == (again, same)
    assert path.suffix == ".eml" and path.read_bytes() == raw
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary files left behind


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=2048), st.text(min_size=1, max_size=40))
def test_archive_round_trips_any_content(tmp_path_factory, content, filename):
    """GIVEN any bytes and any file name WHEN archived as a document THEN reading back gives the same bytes."""
    archive = Archive(tmp_path_factory.mktemp("archive"))
    digest, path = archive.put_document(content, filename)
    assert archive.read(path) == content and path.name.startswith(digest)
    assert path.resolve().is_relative_to(archive.root.resolve())


def test_temporary_files_a_day_old_are_removed_and_nothing_else(tmp_path):
    """GIVEN an archive holding a message and a document, temporary files of writers killed two days
    ago beside them, and one being written now WHEN its stale temporary files are removed THEN the
    two old ones go; the one being written, the message and the document stay."""
    import time

    archive = Archive(tmp_path / "archive")
    _, message = archive.put_message(b"Subject: kept\n\nhello\n")
    _, document = archive.put_document(b"%PDF-1.7 kept", "notice.pdf")
    old_message = message.parent / ".incoming-123-deadbeef-0"
    old_document = document.parent / ".incoming-123-deadbeef-1"
    writing = message.parent / ".incoming-456-cafe-0"
    for path in (old_message, old_document, writing):
        path.write_bytes(b"half a message")
    two_days_ago = time.time() - 2 * 24 * 3600
    for path in (old_message, old_document, message, document):
        os.utime(path, (two_days_ago, two_days_ago))
    assert archive.remove_stale_temporary_files() == 2
    assert not old_message.exists() and not old_document.exists()
    assert writing.exists() and message.exists() and document.exists()
    assert archive.remove_stale_temporary_files() == 0
    assert Archive(tmp_path / "never-written").remove_stale_temporary_files() == 0


KILLED_IN_A_TRANSACTION = """
import sys, time
from datetime import datetime, timezone
from resdesk.cases import open_store
from resdesk.protocols import default_registry
oldham = default_registry().get("oldham")
store = open_store(sys.argv[1], sys.argv[2])
at = datetime(2026, 4, 14, 10, 30, tzinfo=timezone.utc)
with store.transaction() as tx:
    tx.create_case(oldham, at)
n = 0
while True:
    with store.transaction() as tx:
        case = tx.create_case(oldham, at)
        for stage in (1, 2):
            tx.record_stage_summary(case, oldham, stage, "escalated", at)
        tx.add_document(case, "acknowledgement", "a.pdf", "application/pdf", b"%PDF " + str(n).encode())
        n += 1
        if n == 5:
            print("inside", flush=True)
            time.sleep(60)
"""


def test_a_process_killed_inside_transactions_leaves_the_file_intact(sqlite_url, tmp_path):
    """GIVEN a writer committing case after case WHEN it is killed with SIGKILL in the middle of a transaction
    THEN the database passes integrity_check, holds only whole cases, and its audit chain verifies."""
    from resdesk.cases import open_store

    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_IN_A_TRANSACTION, sqlite_url, str(tmp_path / "archive")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert child.stdout.readline() == b"inside\n", child.stderr.read().decode()
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    database = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        cases = connection.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
        entered = connection.execute("SELECT COUNT(*) FROM events WHERE kind = 'stage-entered'").fetchone()[0]
        documents = connection.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    # The first case was opened alone; each of the four committed loops added a whole case, the fifth none of it.
    assert (cases, entered, documents) == (5, 4 * 3, 4)
    store = open_store(sqlite_url, tmp_path / "archive")
    assert verify_chain(store) == (True, None)
    store.close()


def test_form_details_fill_gaps_but_never_overwrite(store, oldham):
    """GIVEN a case with a child's name WHEN a form gives another name and a birth date
    THEN the birth date is recorded, the name is kept, and the change is audited."""
    with store.transaction() as tx:
        case = tx.create_case(oldham, AT, child_name="Amy Smith")
        changed = tx.update_case_details(case, child_name="Amy Smyth", child_dob=date(2015, 4, 3))
        assert changed == {"child_dob": "2015-04-03"}
        assert case.child_name == "Amy Smith"
        assert tx.update_case_details(case, child_name="Amy Smyth") == {}
        assert tx.session.query(AuditEntry).filter_by(action="case-details-updated").count() == 1


def test_the_public_surface_is_true():
    """GIVEN the cases package WHEN its __all__ is read THEN every name it lists exists."""
    from resdesk import cases

    missing = [name for name in cases.__all__ if not hasattr(cases, name)]
    assert missing == []


def test_units_of_work_do_not_nest(store):
    """GIVEN an open unit of work WHEN another is opened inside it in the same thread THEN it is refused at once
    (on SQLite it would otherwise wait on its own lock)."""
    from resdesk.errors import StoreError

    with store.transaction():
        with pytest.raises(StoreError, match="inside another"):
            with store.transaction():
                pass
    with store.transaction() as tx:  # and the store is usable afterwards
        assert tx.all_cases() == []
