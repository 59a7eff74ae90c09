"""resdesk export-child: every record about one child, with an index PDF, audited."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from resdesk.cases.models import AuditEntry, Message, Outbound
from resdesk.errors import UsageError
from resdesk.protocols import default_registry
from resdesk.subject_access import export_child

NOW = datetime(2026, 12, 4, 12, tzinfo=timezone.utc)


def _case(store, oldham, n: int, *, identifier: str, name: str) -> str:
    """A case with one raw message received, a received form, a notice generated and a message sent."""
    raw = f"Message-ID: <m{n}@agency.example>\r\nSubject: Stage 1 Summary\r\n\r\nAbout {name}\r\n".encode()
    with store.transaction() as tx:
        case = tx.create_case(oldham, datetime(2026, 11, n, 9, tzinfo=timezone.utc), child_identifier=identifier,
                              child_name=name, child_dob=date(2015, 3, 4))
        digest, path = store.archive_message(raw)
        tx.session.add(Message(account="maildir:test", folder="INBOX", uidvalidity="1", uid=str(n), sha256=digest,
                               message_id=f"<m{n}@agency.example>", subject="Stage 1 Summary", state="done",
                               case_id=case.id, archive_path=str(path), received_at=NOW))
        tx.add_document(case, "received-stage-summary", "form.pdf", "application/pdf", f"%PDF form {n}".encode())
        tx.add_document(case, "notice", "form.pdf", "application/pdf", f"%PDF notice {n}".encode())
        tx.session.add(Outbound(idempotency_key=f"ack-{n}", message_id=f"<ack{n}@resdesk>", case_id=case.id,
                                kind="acknowledgement", recipients=["a@agency.example"], subject="Acknowledgement",
                                raw=f"Subject: Acknowledgement {n}\r\n\r\nRecorded.\r\n".encode(), state="sent",
                                sent_at=NOW))
        return case.ref


def test_a_child_with_two_cases_is_exported_completely_with_an_index_pdf(store, oldham, tmp_path):
    """GIVEN a child with two cases (identifier written differently in each) and another child's case
    WHEN the child is exported by identifier THEN both cases' timelines, raw messages, documents (two named alike
    are both kept) and sent messages are in the folder, index.pdf lists every file with its SHA-256, the other
    child's case is absent, and each exported case has an audit entry; by name and date of birth the same two
    cases are found."""
    first = _case(store, oldham, 1, identifier="943 476 5919", name="Zoë O'Brien")
    second = _case(store, oldham, 2, identifier="9434765919", name="Zoë O'Brien")
    other = _case(store, oldham, 3, identifier="401 023 2137", name="Sam Other")
    registry = default_registry()

    export = export_child(store, registry, NOW, tmp_path / "sar", identifier="943-476-5919", partnership="Oldham")

    assert export.cases == [first, second]
    folder = tmp_path / "sar"
    assert sorted(p.name for p in folder.iterdir()) == sorted([first, second, "index.pdf"])
    for ref in (first, second):
        written = sorted(str(p.relative_to(folder / ref)) for p in (folder / ref).rglob("*") if p.is_file())
        assert written == ["case.json", "documents/form-2.pdf", "documents/form.pdf",
                           f"messages/{_ledger_id(store, ref):06d}.eml", f"sent/{_outbound_id(store, ref):06d}-acknowledgement.eml"]
        assert json.loads((folder / ref / "case.json").read_text())["child"]["name"] == "Zoë O'Brien"
    text = subprocess.run(["pdftotext", "-layout", str(folder / "index.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert first in text and second in text and other not in text and "Zoë O'Brien" in text
    for path in folder.rglob("*"):
        if path.is_file() and path.name != "index.pdf":
            assert hashlib.sha256(path.read_bytes()).hexdigest()[:16] in text.replace("\n", "").replace(" ", "")
    with store.transaction() as tx:
        audited = tx.session.execute(select(AuditEntry.case_ref).where(AuditEntry.action == "subject-access-export"))
        assert sorted(audited.scalars()) == [first, second]

    again = export_child(store, registry, NOW, tmp_path / "sar2", name="  zoë o'brien ", dob=date(2015, 3, 4))
    assert again.cases == [first, second]


def test_no_match_and_a_folder_in_use_are_refused(store, oldham, tmp_path):
    """GIVEN no case about the child WHEN exported THEN a usage error says so; GIVEN a folder that is not empty
    THEN it is refused."""
    _case(store, oldham, 4, identifier="943 476 5919", name="Zoë O'Brien")
    with pytest.raises(UsageError, match="No case"):
        export_child(store, default_registry(), NOW, tmp_path / "a", identifier="000 000 0000")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("x")
    with pytest.raises(UsageError, match="not empty"):
        export_child(store, default_registry(), NOW, tmp_path / "b", identifier="9434765919")


def _ledger_id(store, ref: str) -> int:
    with store.transaction() as tx:
        return tx.messages_for(tx.require_case(ref))[0].id


def _outbound_id(store, ref: str) -> int:
    with store.transaction() as tx:
        return tx.session.execute(select(Outbound.id).where(Outbound.case_id == tx.require_case(ref).id)).scalar_one()
