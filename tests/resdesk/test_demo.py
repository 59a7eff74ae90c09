"""`resdesk demo`: the sample inboxes end to end, checked against the samples' expectations."""

from __future__ import annotations

import email
import re
import json
import sqlite3
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = json.loads((ROOT / "samples" / "mail" / "expected.json").read_text(encoding="utf-8"))
FILED = {"done": "processed", "quarantined": "quarantine", "ignored": "left"}


def demo(out: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "resdesk", "demo", "--out", str(out), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    first = demo(out)
    outbox_after_first = sorted(p.read_bytes() for p in (out / "outbox").glob("*.eml"))
    second = demo(out)
    return out, first, second, outbox_after_first


def ledger(out: Path) -> dict[str, tuple[str, str | None, str | None, str | None]]:
    with sqlite3.connect(out / "resdesk.sqlite3") as connection:
        rows = connection.execute(
            "SELECT m.message_id, m.state, m.reason, c.ref, c.status FROM messages m LEFT JOIN cases c ON c.id = m.case_id"
        ).fetchall()
    return {mid: (state, reason, ref, status) for mid, state, reason, ref, status in rows}


def test_every_sample_message_is_filed_as_expected(runs):
    """GIVEN the sample inboxes WHEN the demo runs THEN each message is processed, quarantined or left as its
    expectation says, and every quarantined one carries a reason."""
    out = runs[0]
    rows = ledger(out)
    assert len(rows) == len(EXPECTED["messages"]) >= 45
    for message in EXPECTED["messages"]:
        state, reason, _, _ = rows[message["message_id"]]
        assert FILED[state] == message["disposition"], (message["file"], state, reason)
        if state == "quarantined":
            assert reason and len(reason) > 20


def test_threads_become_cases(runs):
    """GIVEN messages of one thread (summaries, notifications, templates, replies) THEN they are on one case,
    and different threads are different cases."""
    rows = ledger(runs[0])
    cases_by_thread: dict[str, set] = {}
    for message in EXPECTED["messages"]:
        if message["thread"] and message["disposition"] == "processed" and message["kind"] != "automatic":
            cases_by_thread.setdefault(message["thread"], set()).add(rows[message["message_id"]][2])
    for thread, refs in cases_by_thread.items():
        assert len(refs) == 1 and None not in refs, (thread, refs)
    all_refs = [next(iter(refs)) for refs in cases_by_thread.values()]
    assert len(all_refs) == len(set(all_refs))


def test_outcomes_drive_the_case_status(runs):
    """GIVEN a thread whose last summary resolved it THEN its case is resolved; an unreadable outcome needs review."""
    rows = ledger(runs[0])
    for message in EXPECTED["messages"]:
        if message["outcome"] == "unreadable":
            assert rows[message["message_id"]][3] == "needs-review"
    last_outcome: dict[str, str] = {}
    for message in EXPECTED["messages"]:
        if message["thread"] and message["outcome"] and message["disposition"] == "processed":
            last_outcome[message["thread"]] = (message["outcome"], message["message_id"])
    for thread, (outcome, message_id) in last_outcome.items():
        if outcome == "resolved":
            assert rows[message_id][3] == "resolved", thread


def test_acknowledgements_and_notices_are_written_once(runs):
    """GIVEN the demo run twice THEN the second run sends nothing and finds the same cases; every acknowledged
    message has exactly one acknowledgement, no automatic mail is answered, and the business unit is
    told of quarantined mail with the reason."""
    out, first, second, outbox_after_first = runs
    assert first["sent"] > 0 and second["sent"] == 0
    assert first["cases"] == second["cases"]
    assert sorted(p.read_bytes() for p in (out / "outbox").glob("*.eml")) == outbox_after_first
    messages = [email.message_from_bytes(raw, policy=policy.default) for raw in outbox_after_first]
    # Acknowledgements answer one message each; notices and reminders also thread onto the case's mail.
    answered = [str(m["In-Reply-To"]) for m in messages if m["In-Reply-To"] and m["Auto-Submitted"] == "auto-replied"]
    assert len(answered) == len(set(answered))
    automatic = {m["message_id"] for m in EXPECTED["messages"] if m["kind"] == "automatic"}
    assert not automatic & set(answered)
    expected_acks = {m["message_id"] for m in EXPECTED["messages"] if m["acknowledge"]}
    assert expected_acks <= set(answered)
    for message in messages:
        assert message["Auto-Submitted"] in ("auto-replied", "auto-generated")
        if message["X-Resdesk-Notice"] in ("refusal", "quarantine"):
            continue  # about quarantined mail, which is on no case
        assert "[" in message["Subject"] and "-2026-" in message["Subject"]
    quarantine_notices = [m for m in messages if m["X-Resdesk-Notice"] == "quarantine"]
    assert quarantine_notices and all("Why:" in m.get_content() for m in quarantine_notices)


def test_oldham_notices_reach_the_partnership_group(runs):
    """GIVEN the Oldham threads, one reaching stage 3 and one stages 3 and 4 THEN the stage 3 notification and
    the Resolution Notice (PDF and editable Word) go to the partnership group at the business unit address the
    demo's settings give (never the address printed in the protocol file). The demo drains every sample before
    its one tick, so the case that had reached stage 4 by then gets no stage 3 notification: it was superseded."""
    out = runs[0]
    to_group = {}
    for path in (out / "outbox").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert "oldham.gov.uk" not in str(message["To"]).lower()
        if "oscp.group@oldham.example" in str(message["To"]):
            subject = str(message["Subject"]).strip()
            if message["X-Resdesk-Case"]:  # the case token carries its check code (cases.tokens)
                assert re.search(r"\[OLD-2026-\d{4}-[A-Z2-7]{6}\]$", subject), subject
            subject = re.sub(r"\[(OLD-2026-\d{4})-[A-Z2-7]{6}\]$", r"[\1]", subject)
            to_group[subject] = sorted(a.get_filename() for a in message.iter_attachments())
    assert "Notification of Escalation progressing to stage 3 [OLD-2026-0004]" in to_group, to_group
    assert "Notification of Escalation progressing to stage 3 [OLD-2026-0002]" not in to_group, to_group
    assert to_group["Resolution Notice [OLD-2026-0002]"] == [
        "resolution-notice-OLD-2026-0002.docx", "resolution-notice-OLD-2026-0002.pdf"]


def test_records_and_documents_are_valid_pdfs(runs):
    """GIVEN the demo's auditor records and sent documents THEN every PDF passes qpdf --check."""
    out = runs[0]
    pdfs = list((out / "records").glob("*.pdf")) + list((out / "documents").rglob("*.pdf"))
    assert len(list((out / "records").glob("*.pdf"))) == len(runs[1]["cases"])
    for pdf in pdfs:
        check = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True)
        assert check.returncode == 0, (pdf, check.stdout[-500:])
