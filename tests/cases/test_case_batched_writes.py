"""Writing the case file in batches: the audit chain's tail read once per transaction, the
archive flushed to disk once per batch of messages."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import event

from resdesk.cases import Archive, verify_chain
from resdesk.cases.audit import GENESIS
from resdesk.cases.models import AuditEntry
from resdesk.errors import StoreError

AT = datetime(2026, 5, 1, 9, 30, tzinfo=timezone.utc)


def _audit_selects(store):
    """Count the statements that read the audit table, as the database receives them."""
    seen: list[str] = []

    def _count(conn, cursor, statement, parameters, context, executemany):
        text = " ".join(statement.split()).lower()
        if text.startswith("select") and "from audit" in text:
            seen.append(text)

    event.listen(store.engine, "before_cursor_execute", _count)
    return seen, lambda: event.remove(store.engine, "before_cursor_execute", _count)


def test_many_appends_in_one_transaction_read_the_tail_once(store):
    """GIVEN a chain already holding entries WHEN one transaction appends five more THEN the chain's
    tail is read from the database once, and the whole chain still verifies, linked in order."""
    with store.transaction() as tx:
        tx.audit("resdesk", "first", None, {"n": 0}, at=AT)
    seen, stop = _audit_selects(store)
    try:
        with store.transaction() as tx:
            for n in range(1, 6):
                tx.audit("resdesk", "next", "OLD-2026-0001", {"n": n}, at=AT)
    finally:
        stop()
    assert len(seen) == 1
    assert verify_chain(store) == (True, None)
    with store.transaction() as tx:
        entries = tx.session.query(AuditEntry).order_by(AuditEntry.seq).all()
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5, 6]
    assert entries[0].prev_hash == GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(entries, entries[1:]))


def test_an_entry_is_in_the_case_file_once_appended(store):
    """GIVEN an entry appended inside an open transaction WHEN the same transaction reads the chain
    THEN the entry is there, linked to the one before it."""
    with store.transaction() as tx:
        first = tx.audit("resdesk", "first", None, {}, at=AT)
        second = tx.audit("resdesk", "second", None, {"n": 2}, at=AT)
        rows = tx.session.query(AuditEntry).order_by(AuditEntry.seq).all()
        assert [(row.seq, row.prev_hash, row.hash) for row in rows] == [
            (first.seq, GENESIS, first.hash), (second.seq, first.hash, second.hash)]
    assert verify_chain(store) == (True, None)


def test_entries_of_a_rolled_back_savepoint_are_not_linked_to(store):
    """GIVEN an entry appended inside a savepoint that is then rolled back WHEN the next is appended
    THEN it links to the chain as written, and the chain verifies."""
    with store.transaction() as tx:
        tx.audit("resdesk", "kept", None, {}, at=AT)
    with store.transaction() as tx:
        savepoint = tx.session.begin_nested()
        tx.audit("resdesk", "dropped", None, {}, at=AT)
        savepoint.rollback()
        entry = tx.audit("resdesk", "after", None, {}, at=AT)
        assert entry.seq == 2
    assert verify_chain(store) == (True, None)


def test_a_batch_of_messages_is_in_place_once_synced(store):
    """GIVEN three messages archived with sync=False (one of them twice) WHEN the batch is not yet
    synced THEN nothing lies at their paths; WHEN synced THEN each holds exactly its bytes, with no
    temporary file left."""
    raws = [f"From: a@b.example\r\nSubject: {n}\r\n\r\nbody\r\n".encode() for n in range(3)]
    paths = [store.archive_message(raw, sync=False)[1] for raw in raws]
    assert store.archive_message(raws[0], sync=False)[1] == paths[0]
    assert sorted(store.archive.pending) == sorted(paths)
    assert not any(path.exists() for path in paths)
    assert sorted(store.sync_archive()) == sorted(paths)
    assert [path.read_bytes() for path in paths] == raws
    assert store.archive.pending == []
    leftovers = [p for p in (store.archive.root / "messages").rglob("*") if p.is_file() and p not in paths]
    assert leftovers == []


def test_archive_batch_syncs_when_its_block_ends(tmp_path):
    """GIVEN messages archived inside ``archive.batch()`` WHEN the block ends THEN they are in place;
    a message archived the ordinary way is in place at once."""
    archive = Archive(tmp_path / "archive")
    with archive.batch():
        _, held = archive.put_message(b"Subject: held\r\n\r\nx\r\n", sync=False)
        _, direct = archive.put_message(b"Subject: direct\r\n\r\nx\r\n")
        assert direct.exists() and not held.exists()
    assert held.read_bytes() == b"Subject: held\r\n\r\nx\r\n"


def test_closing_the_store_puts_held_messages_in_place(store):
    """GIVEN a message archived with sync=False and never synced WHEN the store is closed THEN it is
    in place (a file no transaction refers to is harmless; one that a transaction refers to is kept)."""
    _, path = store.archive_message(b"Subject: late\r\n\r\nx\r\n", sync=False)
    store.close()
    assert path.read_bytes() == b"Subject: late\r\n\r\nx\r\n"


def test_a_batch_the_disk_refuses_is_a_store_error_and_leaves_nothing(tmp_path):
    """GIVEN a held message whose folder is taken away before the sync WHEN synced THEN a StoreError
    says the archive cannot be written, and nothing is left held."""
    archive = Archive(tmp_path / "archive")
    _, path = archive.put_message(b"Subject: lost\r\n\r\nx\r\n", sync=False)
    for child in path.parent.iterdir():
        child.unlink()
    path.parent.rmdir()
    with pytest.raises(StoreError, match="cannot be written"):
        archive.sync()
    assert archive.pending == []


def test_without_syncfs_a_batch_is_synced_file_by_file(tmp_path, monkeypatch):
    """GIVEN a platform without Linux's syncfs WHEN a held batch is synced THEN each file is flushed
    on its own and put in place all the same."""
    from resdesk.cases import archive as archive_module

    monkeypatch.setattr(archive_module, "_syncfs", None)
    archive = Archive(tmp_path / "archive")
    raws = [f"Subject: {n}\r\n\r\nx\r\n".encode() for n in range(3)]
    paths = [archive.put_message(raw, sync=False)[1] for raw in raws]
    assert sorted(archive.sync()) == sorted(paths)
    assert [path.read_bytes() for path in paths] == raws


def test_an_event_marks_its_case_for_planning_even_if_the_case_is_let_go(store, oldham):
    """GIVEN a case planned for later WHEN an event is recorded on it and the transaction then lets go
    of every loaded object before it commits THEN the case is still due at once, its change time
    moved on, and a second event in the same transaction marks it without writing again."""
    from datetime import timedelta

    from resdesk.cases.models import PLAN_AT_ONCE, Case

    with store.transaction() as tx:
        ref = tx.create_case(oldham, AT).ref
    with store.transaction() as tx:
        case = tx.require_case(ref)
        case.next_due = AT + timedelta(days=3)
        before = case.updated_at
    updates: list[str] = []

    def _count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().lower().startswith("update cases"):
            updates.append(statement)

    event.listen(store.engine, "before_cursor_execute", _count)
    try:
        with store.transaction() as tx:
            case = tx.require_case(ref)
            tx.add_event(case, "note", AT, detail={"text": "first"})
            tx.add_event(case, "note", AT, detail={"text": "second"})
            tx.session.expire_all()
    finally:
        event.remove(store.engine, "before_cursor_execute", _count)
    assert len(updates) == 1
    with store.transaction() as tx:
        case = tx.session.get(Case, tx.require_case(ref).id)
        assert case.next_due == PLAN_AT_ONCE
        assert case.updated_at > before
        assert [e.detail["text"] for e in case.events if e.kind == "note"] == ["first", "second"]


def test_cases_opened_together_take_consecutive_references_and_the_next_transaction_follows(store, oldham):
    """GIVEN three cases opened in one transaction, one in a savepoint inside it and one after the
    savepoint WHEN a later transaction opens another THEN the references run on without a gap or a
    repeat (the counter is counted up in the database once a transaction, or savepoint, and its later
    numbers are written with the rest)."""
    with store.transaction() as tx:
        refs = [tx.create_case(oldham, AT).ref for _ in range(3)]
        with tx.session.begin_nested():
            refs.append(tx.create_case(oldham, AT).ref)
        refs.append(tx.create_case(oldham, AT).ref)
    with store.transaction() as tx:
        refs.append(tx.create_case(oldham, AT).ref)
    assert refs == [f"OLD-2026-000{n}" for n in range(1, 7)]
    with store.transaction() as tx:
        assert [c.ref for c in tx.all_cases()] == refs


def test_events_held_for_the_transaction_are_read_back_and_a_savepoint_undoes_only_its_own(store, oldham):
    """GIVEN events recorded on a new case, some inside a savepoint that is released and one inside a
    savepoint that is rolled back WHEN the same transaction reads the case's events, and again after
    commit THEN every event recorded outside the rolled-back savepoint is there, in order, and the
    audit chain verifies."""
    from resdesk.cases.models import Event

    with store.transaction() as tx:
        case = tx.create_case(oldham, AT)
        tx.add_event(case, "note", AT, detail={"text": "before"})
        kept = tx.session.begin_nested()
        tx.add_event(case, "note", AT, detail={"text": "kept"})
        kept.commit()
        dropped = tx.session.begin_nested()
        tx.add_event(case, "note", AT, detail={"text": "dropped"})
        tx.audit("resdesk", "dropped", case.ref, {})
        dropped.rollback()
        tx.add_event(case, "note", AT, detail={"text": "after"})
        inside = [e.detail["text"] for e in tx.session.query(Event).filter_by(kind="note").order_by(Event.id)]
        ref = case.ref
    assert inside == ["before", "kept", "after"]
    with store.transaction() as tx:
        case = tx.require_case(ref)
        assert [e.detail["text"] for e in case.events if e.kind == "note"] == ["before", "kept", "after"]
    assert verify_chain(store) == (True, None)


def test_held_rows_of_a_transaction_that_fails_are_never_written(store, oldham):
    """GIVEN a transaction that opens a case and records an event, then fails WHEN it rolls back THEN
    neither the case, its event nor its audit entries are in the case file, and the chain verifies."""
    from resdesk.cases.models import AuditEntry, Case, Event

    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            case = tx.create_case(oldham, AT)
            tx.add_event(case, "note", AT, detail={"text": "lost"})
            raise RuntimeError("the disk was full")
    with store.transaction() as tx:
        assert tx.session.query(Case).count() == tx.session.query(Event).count() == 0
        assert tx.session.query(AuditEntry).count() == 0
    assert verify_chain(store) == (True, None)


def test_a_stage_change_audits_every_field_of_each_new_event(store, oldham):
    """GIVEN a case WHEN a stage summary moves it on THEN the stage-state-changed audit entry lists each
    new event with every field the event has (kind, time, stage, variant, detail)."""
    import json
    from dataclasses import asdict

    from resdesk.cases.models import AuditEntry

    with store.transaction() as tx:
        case = tx.create_case(oldham, AT)
        transition = tx.record_stage_summary(case, oldham, 1, "escalated", AT)
    with store.transaction() as tx:
        entry = tx.session.query(AuditEntry).filter_by(action="stage-state-changed").one()
    expected = [{**asdict(e), "at": e.at.isoformat()} for e in transition.events]
    assert transition.events and entry.payload["events"] == json.loads(json.dumps(expected, default=str))


def test_parties_facts_and_documents_are_written_at_once_and_read_as_if_loaded(store, oldham):
    """GIVEN a case opened in a transaction WHEN a party, a fact and a document are added to it THEN
    each row is in the case file before any flush, in its case's list, with nothing left pending for
    the next flush; a party changed later in the transaction is written by its commit; and after the
    commit the case reads back with all three."""
    from sqlalchemy import func, select

    from resdesk.cases.facts import facts_of, record_fact
    from resdesk.cases.models import CaseFact, Document, Party

    with store.transaction() as tx:
        case = tx.create_case(oldham, AT)
        party = tx.add_party(case, name="Dana", email="dana@police.example", agency="Police")
        record_fact(tx, case, "case_start", AT, source="estimated", by="resdesk", at=AT)
        document = tx.add_document(case, "attachment", "notes.txt", "text/plain", b"met today")
        counted = {model: tx.session.connection().execute(select(func.count()).select_from(model)).scalar_one()
                   for model in (Party, CaseFact, Document)}
        assert counted == {Party: 1, CaseFact: 1, Document: 1}
        assert party.id is not None and document.id is not None
        assert case.parties == [party] and case.documents == [document] and "case_start" in facts_of(case)
        assert not tx.session.new and not tx.session.dirty
        assert tx.add_party(case, name="Dana W", email="DANA@police.example", role="DS") is party
        ref = case.ref
    with store.transaction() as tx:
        case = tx.require_case(ref)
        assert [(p.name, p.email, p.agency, p.role) for p in case.parties] == [
            ("Dana", "dana@police.example", "Police", "DS")]
        assert [d.filename for d in case.documents] == ["notes.txt"]
        assert facts_of(case)["case_start"].estimated


def test_a_party_added_inside_a_savepoint_rolled_back_is_gone_from_its_case(store, oldham):
    """GIVEN a case with one party WHEN another party and a fact are added inside a savepoint that is
    rolled back THEN neither is in the case's lists or in the case file, and the transaction commits
    the first party alone."""
    from resdesk.cases.facts import facts_of, set_fact

    with store.transaction() as tx:
        case = tx.create_case(oldham, AT)
        tx.add_party(case, email="first@police.example")
        savepoint = tx.session.begin_nested()
        tx.add_party(case, email="second@police.example")
        savepoint.rollback()
        assert [p.email for p in case.parties] == ["first@police.example"]
        savepoint = tx.session.begin_nested()
        set_fact(tx, case, "case_start", AT, by="a.person", reason="from the referral", at=AT)
        savepoint.rollback()
        assert "case_start" not in facts_of(case)
        ref = case.ref
    with store.transaction() as tx:
        case = tx.require_case(ref)
        assert [p.email for p in case.parties] == ["first@police.example"]
        assert "case_start" not in facts_of(case)


def test_a_fact_set_after_another_is_cleared_in_one_transaction_keeps_both_changes(store, oldham):
    """GIVEN a case holding two facts WHEN one transaction clears one of them (a change not yet written)
    and then sets a third THEN the case's list holds the kept fact and the new one, within the
    transaction and after its commit, and not the cleared one."""
    from resdesk.cases.facts import clear_fact, facts_of, set_fact

    with store.transaction() as tx:
        case = tx.create_case(oldham, AT)
        set_fact(tx, case, "urgent", True, by="a.person", reason="said on the phone", at=AT)
        set_fact(tx, case, "threshold-dispute", True, by="a.person", reason="the referral says so", at=AT)
        ref = case.ref
    with store.transaction() as tx:
        case = tx.require_case(ref)
        clear_fact(tx, case, "urgent", by="a.person", reason="not urgent after all", at=AT)
        set_fact(tx, case, "imminent-risk", False, by="a.person", reason="checked with the school", at=AT)
        assert sorted(facts_of(case)) == ["imminent-risk", "threshold-dispute"]
    with store.transaction() as tx:
        assert sorted(facts_of(tx.require_case(ref))) == ["imminent-risk", "threshold-dispute"]
