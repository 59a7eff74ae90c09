"""Retention per record kind, legal hold, and disposal that leaves an audited, verifiable trace."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from resdesk.cases import verify_chain
from resdesk.cases.models import AuditEntry, Case, Disposal, Document, Message, RESOLVED
from resdesk.cases.retention import (
    AUDITOR_RECORDS, CASE, DOCUMENTS, RAW_MESSAGES, RetentionPolicy, apply_retention, place_hold, plan_retention,
    release_hold,
)
from resdesk.errors import UsageError
from resdesk.intake.sources.maildir import MaildirSource

NOW = datetime(2036, 6, 1, 12, tzinfo=timezone.utc)
POLICY = RetentionPolicy(years={CASE: 7, RAW_MESSAGES: 2, DOCUMENTS: 7, AUDITOR_RECORDS: 7},
                         settings={CASE: "retention.cases_years", RAW_MESSAGES: "retention.raw_messages_years"})
SHARED_FORM = b"%PDF-1.4 the same blank form attached to two cases"


def _message(n: int) -> bytes:
    return (f"Message-ID: <m{n}@agency.example>\r\nSubject: Stage 1 Summary\r\nFrom: a@agency.example\r\n\r\n"
            f"Child: Zoë Example {n}\r\n").encode()


def _case(store, oldham, n: int, *, resolved_years_ago: float | None) -> tuple[str, bytes]:
    """A case with one raw message, one received form (shared bytes), one own document and an auditor record."""
    raw = _message(n)
    with store.transaction() as tx:
        case = tx.create_case(oldham, NOW - timedelta(days=4000), child_name=f"Zoë Example {n}",
                              child_identifier=f"943 476 59{n:02d}")
        tx.update_case_details(case, child_dob=datetime(2015, 1, 1).date())
        digest, path = store.archive_message(raw)
        tx.session.add(Message(account="maildir:test", folder="INBOX", uidvalidity="1", uid=str(n), sha256=digest,
                               message_id=f"<m{n}@agency.example>", subject="Stage 1 Summary", sender="a@agency.example",
                               state="done", case_id=case.id, archive_path=str(path)))
        tx.add_document(case, "received-stage-summary", "form.pdf", "application/pdf", SHARED_FORM)
        tx.add_document(case, "notice", f"notice-{n}.pdf", "application/pdf", f"notice {n}".encode())
        tx.add_document(case, "case-record", f"record-{n}.pdf", "application/pdf", f"record {n}".encode())
        if resolved_years_ago is not None:
            case.status = RESOLVED
            case.resolved_at = NOW - timedelta(days=int(365.25 * resolved_years_ago))
        return case.ref, raw


def _processed(tmp_path: Path, raws: list[bytes]) -> MaildirSource:
    """The raw messages' copies filed into Resdesk/Processed, as the watcher leaves them."""
    source = MaildirSource(tmp_path / "maildir")
    for n, raw in enumerate(raws):
        (tmp_path / "maildir" / "new" / f"17000000{n:02d}.M1P1.host").write_bytes(raw)
    uidvalidity, uids = source.snapshot()
    from resdesk.intake.sources.base import MessageRef

    source.move_many([MessageRef(source.account, "INBOX", uidvalidity, uid) for uid in uids], "Resdesk/Processed")
    return source


def _processed_digests(tmp_path: Path) -> set[str]:
    folder = tmp_path / "maildir" / ".Resdesk.Processed"
    return {hashlib.sha256(p.read_bytes()).hexdigest() for sub in ("new", "cur") for p in (folder / sub).iterdir()}


def test_retention_disposes_of_unheld_cases_past_their_period_and_the_chain_still_verifies(store, oldham, tmp_path):
    """GIVEN four cases: resolved 10 years ago, resolved 10 years ago and held, resolved 3 years ago, and open
    WHEN retention is applied (cases 7 years, raw messages 2, documents 7, auditor records 7)
    THEN the old unheld case is gone with its files, mail copy and audit payloads (one disposal entry says
    what, when and under which rule); the held case is whole; the 3-year-old case lost only its raw message;
    the open case is untouched; the shared form's file stays while a case still uses it; the chain verifies."""
    old, old_raw = _case(store, oldham, 1, resolved_years_ago=10)
    held, held_raw = _case(store, oldham, 2, resolved_years_ago=10)
    recent, recent_raw = _case(store, oldham, 3, resolved_years_ago=3)
    running, running_raw = _case(store, oldham, 4, resolved_years_ago=None)
    source = _processed(tmp_path, [old_raw, held_raw, recent_raw, running_raw])
    with store.transaction() as tx:
        place_hold(tx, held, "litigation: county court claim 7Q123", actor="user:dpo", at=NOW - timedelta(days=30))
        old_files = [d.path for d in tx.require_case(old).documents] + [
            m.archive_path for m in tx.messages_for(tx.require_case(old))]
        shared_form = next(d.path for d in tx.require_case(old).documents if d.filename == "form.pdf")

    plan = plan_retention(store, POLICY, NOW)
    assert sorted((d.case_ref, d.kind) for d in plan.due) == sorted(
        [(old, RAW_MESSAGES), (old, DOCUMENTS), (old, AUDITOR_RECORDS), (old, CASE), (recent, RAW_MESSAGES)])
    assert plan.held == [held]

    report = apply_retention(store, POLICY, NOW, remove_mail=lambda copies: source.remove_copies(
        "Resdesk/Processed", copies))

    assert report.mailbox_copies_removed == 2
    assert _processed_digests(tmp_path) == {hashlib.sha256(r).hexdigest() for r in (held_raw, running_raw)}
    assert [p for p in old_files if Path(p).exists()] == [shared_form]  # still the held case's form
    assert verify_chain(store) == (True, None)
    with store.transaction() as tx:
        assert tx.case_by_ref(old) is None
        assert len(tx.require_case(held).documents) == 3 and tx.messages_for(tx.require_case(held))[0].archive_path
        recent_case = tx.require_case(recent)
        assert len(recent_case.documents) == 3
        message = tx.messages_for(recent_case)[0]
        assert (message.archive_path, message.subject, message.sender) == (None, None, None)
        assert len(tx.require_case(running).documents) == 3
        entries = tx.session.execute(select(AuditEntry).where(AuditEntry.case_ref == old)
                                     .order_by(AuditEntry.seq)).scalars().all()
        *erased, disposal = entries
        assert erased and all(e.payload == {} and e.disposed_at == NOW for e in erased)
        assert disposal.action == "retention-disposal" and disposal.at == NOW
        assert set(disposal.payload["disposed"]) == {RAW_MESSAGES, DOCUMENTS, AUDITOR_RECORDS, CASE}
        assert disposal.payload["disposed"][CASE]["rule"].startswith("retention.cases_years = 7 years from resolution")
        held_entries = tx.session.execute(select(AuditEntry).where(AuditEntry.case_ref == held)).scalars().all()
        assert all(e.disposed_at is None for e in held_entries) and {"child_dob": "2015-01-01"} in [
            e.payload for e in held_entries]
        assert tx.session.execute(select(Disposal.kind).where(Disposal.case_ref == recent)).scalars().all() == [
            RAW_MESSAGES]

    again = apply_retention(store, POLICY, NOW)
    assert again.due == [] and again.held == [held]


def test_a_released_hold_lets_the_case_go_and_a_hold_needs_a_reason(store, oldham):
    """GIVEN a held case past its period WHEN the hold is released with a reason THEN retention disposes of it;
    a hold without a reason, or a release with no hold, is refused."""
    held, _ = _case(store, oldham, 5, resolved_years_ago=9)
    with store.transaction() as tx:
        with pytest.raises(UsageError, match="needs a reason"):
            place_hold(tx, held, "  ", actor="user:dpo", at=NOW)
    with store.transaction() as tx:
        place_hold(tx, held, "subject access request pending", actor="user:dpo", at=NOW)
    assert plan_retention(store, POLICY, NOW).held == [held]
    with store.transaction() as tx:
        assert release_hold(tx, held, "request answered", actor="user:dpo", at=NOW) == 1
    with store.transaction() as tx:
        with pytest.raises(UsageError, match="no legal hold"):
            release_hold(tx, held, "again", actor="user:dpo", at=NOW)
    report = apply_retention(store, POLICY, NOW)
    assert {d.kind for d in report.due} == {RAW_MESSAGES, DOCUMENTS, AUDITOR_RECORDS, CASE}
    with store.transaction() as tx:
        assert tx.session.execute(select(Case)).first() is None
        assert tx.session.execute(select(Document)).first() is None
    assert verify_chain(store) == (True, None)


def test_imap_copies_in_the_processed_folder_are_removed_by_message_id_and_digest(dovecot, mail_user):
    """GIVEN two filed messages in Resdesk/Processed on a real IMAP server, one of them with a look-alike that
    shares its Message-ID but not its bytes WHEN the first's copy is removed THEN exactly that message goes."""
    from resdesk.intake.sources import connect_source
    from resdesk.settings import load_settings

    keep, doomed = _message(7), _message(8)
    lookalike = doomed.replace(b"Zo\xc3\xab", b"Another")
    for raw in (keep, doomed, lookalike):
        dovecot.append(mail_user, raw, folder="Resdesk/Processed")
    settings = load_settings(environ=dovecot.mailbox_environment(mail_user, security="starttls"))
    source = connect_source(settings.mailbox)
    try:
        removed = source.remove_copies("Resdesk/Processed", {hashlib.sha256(doomed).hexdigest(): "<m8@agency.example>"})
    finally:
        source.close()
    assert removed == 1
    with dovecot.client(mail_user) as client:
        client.select_folder("Resdesk/Processed")
        left = client.fetch(client.search(["ALL"]), ["BODY.PEEK[]"])
    assert sorted(d[b"BODY[]"] for d in left.values()) == sorted([keep, lookalike])
