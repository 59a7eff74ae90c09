"""``resdesk cases`` and ``resdesk case REF`` over a real case file."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from resdesk.cases import open_store
from resdesk.outbox import queue as outbox
from resdesk.cases.models import Message
from resdesk.cli import main

MONDAY = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
TUESDAY = datetime(2026, 3, 3, 10, tzinfo=timezone.utc)


@pytest.fixture
def config(tmp_path: Path, oldham) -> Path:
    """A settings file naming a case file with three Oldham cases: escalated, resolved, unreadable."""
    database = f"sqlite:///{tmp_path / 'var' / 'resdesk.sqlite3'}"
    file = tmp_path / "resdesk.toml"
    file.write_text(f'[storage]\ndatabase = "{database}"\narchive = "{tmp_path / "archive"}"\n')
    store = open_store(database, tmp_path / "archive")
    with store.transaction() as tx:
        escalated = tx.create_case(oldham, MONDAY)
        tx.record_stage_summary(escalated, oldham, 1, "escalated", TUESDAY, message_id="<s1@school.example>")
        tx.session.add(Message(account="inbox", folder="INBOX", uidvalidity="1", uid="1", state="done",
                               sha256="ab" * 32, subject="Stage 1 Summary", case_id=escalated.id,
                               received_at=TUESDAY))
        tx.add_document(escalated, "acknowledgement", "ack.pdf", "application/pdf", b"%PDF-1.7 ack")
        row, _ = outbox.enqueue(tx, idempotency_key="ack:1", message_id="<ack-1@resdesk.example>",
                                kind="acknowledgement", recipients=["sam@school.example"],
                                subject="[OLD-2026-0001] Stage 1 Summary received", raw=b"raw ack", case=escalated)
        outbox.mark_sent(tx, row, TUESDAY)
        resolved = tx.create_case(oldham, MONDAY)
        tx.record_stage_summary(resolved, oldham, 1, "resolved", TUESDAY)
        unreadable = tx.create_case(oldham, MONDAY)
        tx.record_stage_summary(unreadable, oldham, 1, None, TUESDAY)
    store.close()
    return file


def _json(capsys, *argv: str):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_cases_json_lists_stage_status_due_and_messages(config, capsys):
    """GIVEN three cases WHEN listed as JSON on the Wednesday THEN each has its stage, status, due time and count."""
    rows = _json(capsys, "cases", "--config", str(config), "--json", "--now", "2026-03-04T09:00")
    by_ref = {r["ref"]: r for r in rows}
    assert set(by_ref) == {"OLD-2026-0001", "OLD-2026-0002", "OLD-2026-0003"}
    first = by_ref["OLD-2026-0001"]
    assert (first["protocol"], first["stage"], first["status"], first["messages"]) == ("oldham", 2, "open", 1)
    assert first["stage_started"] == "2026-03-03T10:00:00+00:00"
    assert first["stage_due"] == "2026-03-05T23:59:59+00:00"  # Oldham stage 2: 2 working days
    assert first["overdue"] is False
    assert by_ref["OLD-2026-0002"]["status"] == "resolved"
    assert by_ref["OLD-2026-0003"]["status"] == "needs-review"


def test_cases_overdue_and_open_filters(config, capsys):
    """GIVEN the same cases WHEN asked the following week for overdue ones THEN only unresolved late stages are listed."""
    overdue = _json(capsys, "cases", "--config", str(config), "--json", "--overdue", "--now", "2026-03-10T09:00")
    assert {r["ref"] for r in overdue} == {"OLD-2026-0001", "OLD-2026-0003"}
    assert all(r["overdue"] for r in overdue)
    still_open = _json(capsys, "cases", "--config", str(config), "--json", "--open")
    assert {r["ref"] for r in still_open} == {"OLD-2026-0001", "OLD-2026-0003"}


def test_cases_pages_with_limit_and_after(config, capsys, monkeypatch):
    """GIVEN three cases read one per query
    WHEN listed two at a time, then after the second
    THEN the pages are the first two and the third, in order, and the table names the next page."""
    from resdesk.cases import views

    monkeypatch.setattr(views, "PAGE", 1)
    first = _json(capsys, "cases", "--config", str(config), "--json", "--limit", "2")
    assert [r["ref"] for r in first] == ["OLD-2026-0001", "OLD-2026-0002"]
    rest = _json(capsys, "cases", "--config", str(config), "--json", "--limit", "2", "--after", "OLD-2026-0002")
    assert [r["ref"] for r in rest] == ["OLD-2026-0003"]
    assert _json(capsys, "cases", "--config", str(config), "--json", "--after", "OLD-2026-0003") == []
    assert main(["cases", "--config", str(config), "--limit", "1", "--open"]) == 0
    assert "resdesk cases --limit 1 --after OLD-2026-0001" in capsys.readouterr().out


def test_case_json_is_the_full_timeline(config, capsys):
    """GIVEN an escalated case WHEN shown as JSON THEN events, messages with SHA-256, documents and clock are there."""
    case = _json(capsys, "case", "OLD-2026-0001", "--config", str(config), "--json", "--now", "2026-03-04T09:00")
    assert [e["kind"] for e in case["events"]] == ["stage-summary", "stage-entered", "stage-entered"]
    assert case["messages"][0]["sha256"] == "ab" * 32
    assert case["documents"][0]["kind"] == "acknowledgement" and len(case["documents"][0]["sha256"]) == 64
    # Stage 1, the first heard of, starts at its mail (estimated), so its "met" is an estimate too.
    assert [(c["stage"], c["status"]) for c in case["clock"]] == [
        (0, "not-recorded"), (1, "met (estimated)"), (2, "on-time")]
    assert [c["estimated"] for c in case["clock"]] == [False, True, False]
    assert any(a["action"] == "document-archived" for a in case["audit"])
    assert [(o["kind"], o["state"], o["message_id"]) for o in case["outbound"]] == [
        ("acknowledgement", "sent", "<ack-1@resdesk.example>")
    ]
    assert case["outbound"][0]["sha256"] == hashlib.sha256(b"raw ack").hexdigest()


def test_case_for_people_prints_the_timeline(config, capsys, oldham):
    """GIVEN a case WHEN shown without --json THEN the reference, the stages and the message hash are printed."""
    assert main(["case", "OLD-2026-0001", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "OLD-2026-0001" in out and oldham.stage(2).name[:40] in out and "ab" * 32 in out
    assert "sam@school.example" in out


def test_unknown_case_is_one_sentence_and_status_2(config, capsys):
    """GIVEN no case OLD-2026-0099 WHEN asked for it THEN one sentence on stderr and exit status 2."""
    assert main(["case", "OLD-2026-0099", "--config", str(config)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip() == "resdesk: There is no case OLD-2026-0099 in the case file."


def test_a_case_under_an_unknown_protocol_does_not_break_the_listing(config, capsys, tmp_path):
    """GIVEN a case whose protocol is no longer defined WHEN cases are listed THEN it is listed, saying why it has no clock."""
    from sqlalchemy import update

    from resdesk.cases.models import Case

    store = open_store(f"sqlite:///{tmp_path / 'var' / 'resdesk.sqlite3'}", tmp_path / "archive")
    with store.transaction() as tx:
        tx.session.execute(update(Case).where(Case.ref == "OLD-2026-0002").values(protocol="retired"))
    store.close()
    rows = {r["ref"]: r for r in _json(capsys, "cases", "--config", str(config), "--json")}
    assert rows["OLD-2026-0002"]["stage_due"] is None
    assert "retired" in rows["OLD-2026-0002"]["next_action"]
