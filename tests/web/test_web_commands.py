"""The workspace's commands: ``resdesk users``, ``verify``, ``act``, ``quarantine`` and ``alerts``,
run as a person runs them, on the small real case file."""

from __future__ import annotations

import io
import json
import sys
from types import SimpleNamespace

import pytest

from resdesk.cli import main
from tests.web import browser


@pytest.fixture
def resdesk(capsys, monkeypatch):
    """Run one ``resdesk`` command in this process: (returncode, stdout, stderr)."""

    def run(*args, stdin: str | None = None):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
        code = main(list(args))
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    return run


@pytest.fixture
def config(case_file, tmp_path):
    return str(browser.write_config(case_file, tmp_path / "resdesk.toml", 8080))


def test_users_add_list_disable_reset(resdesk, config):
    """GIVEN the case file WHEN a user is added with a password on standard input, another with a generated one,
    one is disabled and reset THEN the list shows them, the generated password is printed once, and a short
    password is refused with exit status 2."""
    added = resdesk("users", "add", "carol", "--role", "auditor", "--password-stdin", "--config", config,
                    stdin="a long enough password\n")
    assert added.returncode == 0 and "Password" not in added.stdout
    generated = resdesk("users", "add", "dev", "--role", "admin", "--config", config)
    assert generated.returncode == 0 and "Password (shown only now): " in generated.stdout
    assert resdesk("users", "disable", "carol", "--config", config).returncode == 0
    listing = json.loads(resdesk("users", "list", "--json", "--config", config).stdout)
    assert {(u["name"], u["role"], u["disabled"]) for u in listing} >= {("carol", "auditor", True), ("dev", "admin", False)}
    short = resdesk("users", "reset", "carol", "--password-stdin", "--config", config, stdin="short\n")
    assert short.returncode == 2 and "at least 12" in short.stderr
    assert resdesk("users", "disable", "nobody", "--config", config).returncode == 2


def test_verify_a_case_all_cases_and_a_record(resdesk, config, case_file, tmp_path):
    """GIVEN an intact case file and a record PDF written from it WHEN verified THEN each says intact; WHEN an
    archived message is altered THEN ``verify REF`` and ``verify --record`` exit 1 naming it, while the record
    checked by itself (``--offline``) still recomputes."""
    assert resdesk("verify", "--all", "--config", config).returncode == 0
    record = tmp_path / "record.pdf"
    assert resdesk("case", "OLD-2026-0001", "--pdf", str(record), "--config", config).returncode == 0
    assert resdesk("verify", "--record", str(record), "--config", config).returncode == 0
    from resdesk.cases.models import Message

    with case_file.store.transaction() as tx:
        path = tx.session.get(Message, 1).archive_path
    with open(path, "ab") as handle:
        handle.write(b"tampered")
    text = subprocess_free_text(record)
    assert "Summary of our stage 1 discussion" in text
    broken = resdesk("verify", "OLD-2026-0001", "--json", "--config", config)
    assert broken.returncode == 1
    [result] = json.loads(broken.stdout)
    assert not result["intact"] and "message 1" in result["problems"][0] and "altered" in result["problems"][0]
    assert resdesk("verify", "--record", str(record), "--offline").returncode == 0
    assert "altered" in resdesk("verify", "--record", str(record), "--config", config).stdout
    with open(path, "rb+") as handle:  # put the message back as it was
        handle.truncate(handle.seek(0, 2) - len(b"tampered"))
    with case_file.store.transaction() as tx:
        from sqlalchemy import select

        from resdesk.cases.models import AuditEntry

        entry = tx.session.execute(select(AuditEntry).where(AuditEntry.case_ref == "OLD-2026-0001").limit(1)).scalar_one()
        entry.actor = "someone else"
    against = resdesk("verify", "--record", str(record), "--config", config)
    assert against.returncode == 1 and "not in the case file as recorded" in against.stdout


def test_act_quarantine_and_alerts_for_scripting(resdesk, config, case_file):
    """GIVEN the case file WHEN a note is added, the stage set, a party added, the held message dismissed and the
    alerts listed THEN each is done and audited as the named person; a missing reason is bad usage."""
    assert resdesk("act", "note", "OLD-2026-0001", "--reason", "Called the school", "--as", "bu", "--config", config).returncode == 0
    assert resdesk("act", "set-stage", "OLD-2026-0001", "2", "--reason", "agreed", "--config", config).returncode == 0
    assert resdesk("act", "add-party", "OLD-2026-0001", "eve.marsh@school.example", "--name", "Eve Marsh",
                   "--agency", "Education", "--reason", "joined the meeting", "--as", "bu", "--config", config).returncode == 0
    with pytest.raises(SystemExit) as usage:
        resdesk("act", "close", "OLD-2026-0001", "--config", config)
    assert usage.value.code == 2
    held = json.loads(resdesk("quarantine", "list", "--json", "--config", config).stdout)
    assert [h["id"] for h in held] == [case_file.quarantined_id]
    assert resdesk("quarantine", "dismiss", str(case_file.quarantined_id), "--reason", "spam", "--config", config).returncode == 0
    assert json.loads(resdesk("quarantine", "list", "--json", "--config", config).stdout) == []
    assert resdesk("alerts", "--json", "--config", config).returncode == 0
    case = json.loads(resdesk("case", "OLD-2026-0001", "--json", "--config", config).stdout)
    assert case["stage"] == 2
    assert {("note", "bu"), ("party-added", "bu")} <= {(a["action"], a["actor"]) for a in case["audit"]}
    assert {"name": "Eve Marsh", "email": "eve.marsh@school.example", "agency": "Education", "role": None} in case["parties"]


def test_act_accept_message_records_what_someone_not_on_the_case_said(resdesk, config, case_file):
    """GIVEN OLD-2026-0002 on the review list for a summary from someone not on it WHEN the business unit
    runs ``resdesk act accept-message LEDGER_ID --reason`` THEN it says what the case now is, the sender is
    a party, the acceptance is audited as the named person, and accepting it again is refused (exit 2)
    with the reason."""
    done = resdesk("act", "accept-message", str(case_file.misfiled_id), "--reason", "Dana chairs this meeting",
                   "--as", "bu", "--config", config)
    assert done.returncode == 0 and "OLD-2026-0002 is now open at stage 1" in done.stdout
    case = json.loads(resdesk("case", "OLD-2026-0002", "--json", "--config", config).stdout)
    assert "dana.whitfield@police.example" in [p["email"] for p in case["parties"]]
    assert case["status"] == "open" and ("message-accepted", "bu") in {(a["action"], a["actor"]) for a in case["audit"]}
    again = resdesk("act", "accept-message", str(case_file.misfiled_id), "--reason", "again", "--config", config)
    assert again.returncode != 0 and "already accepted on OLD-2026-0002 by bu" in again.stderr


def subprocess_free_text(pdf):
    """The record's text, by poppler's pdftotext."""
    import subprocess

    return subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
