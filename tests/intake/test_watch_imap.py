"""The watcher against a real Dovecot on loopback: push, crashes, resets, rivals, colleagues' flags."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from resdesk.cases import open_store
from resdesk.cases.models import Event, Message
from resdesk.settings import load_settings
from resdesk.wiring import build_intake
from tests.intake.mail import newsletter, summary

ROOT = Path(__file__).resolve().parents[2]


def environment(dovecot, user, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(dovecot.mailbox_environment(user))
    env.update(
        RESDESK_STORAGE__DATABASE=f"sqlite:///{tmp_path / 'case.sqlite3'}",
        RESDESK_STORAGE__ARCHIVE=str(tmp_path / "archive"),
        RESDESK_SMTP__ENABLED="false",
        RESDESK_MAILBOX__POLL_SECONDS="600",
    )
    env.update(extra)
    return env


def watch_once(env: dict[str, str]) -> subprocess.Popen:
    """``resdesk watch --once`` as its own process; what it says goes to a file nobody must drain."""
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "resdesk", "watch", "--once", "--json"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
    )
    process.log = log
    return process


def said(process: subprocess.Popen) -> str:
    process.log.seek(0)
    return process.log.read().decode(errors="replace")[-3000:]


def recorded_ledger_ids(db: Path) -> list[int]:
    """Ledger ids of every message-recorded event, one per recording."""
    store = open_store(f"sqlite:///{db}", db.parent / "archive")
    try:
        with store.transaction() as tx:
            return list(tx.session.execute(select(Event.ledger_id).where(Event.kind == "message-recorded")).scalars())
    finally:
        store.close()


def ledger_states(db: Path) -> dict[str, int]:
    store = open_store(f"sqlite:///{db}", db.parent / "archive")
    try:
        with store.transaction() as tx:
            rows = tx.session.execute(select(Message.state, func.count()).group_by(Message.state)).all()
            return dict(rows)
    finally:
        store.close()


def test_a_watcher_removes_the_temporary_files_a_killed_one_left(dovecot, mail_user, tmp_path):
    """GIVEN an archive holding a temporary file a watcher killed mid-batch left two days ago, and one
    written a moment ago WHEN a watcher starts and drains a summary THEN the old one is removed and
    the recent one, which a live writer may still hold, is left."""
    env = environment(dovecot, mail_user, tmp_path)
    shard = tmp_path / "archive" / "messages" / "ab"
    shard.mkdir(parents=True)
    left, recent = shard / ".incoming-999-0badc0de-7", shard / ".incoming-998-0badc0de-0"
    left.write_bytes(b"half a message")
    recent.write_bytes(b"half a message")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(left, (two_days_ago, two_days_ago))
    dovecot.append(mail_user, summary(1, "escalated", n=1))
    watcher = watch_once(env)
    assert watcher.wait(timeout=60) == 0, said(watcher)
    assert not left.exists(), said(watcher)
    assert recent.exists()
    assert ledger_states(tmp_path / "case.sqlite3") == {"done": 1}


def test_a_summary_is_recorded_through_idle_push(dovecot, mail_user, tmp_path):
    """GIVEN a watcher idling on the inbox with polling set to ten minutes
    WHEN a summary is appended THEN it is recorded promptly, so it was the server's push that woke it."""
    env = environment(dovecot, mail_user, tmp_path)
    settings = load_settings(None, environ={k: v for k, v in env.items() if k.startswith("RESDESK_")})
    intake = build_intake(settings)
    stop = threading.Event()
    thread = threading.Thread(target=intake.watcher.run, kwargs={"stop": stop, "wait_seconds": 600}, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)  # the first drain is over and the watcher is idling
        dovecot.append(mail_user, summary(1, "escalated"))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not recorded_ledger_ids(tmp_path / "case.sqlite3"):
            time.sleep(0.05)
        assert len(recorded_ledger_ids(tmp_path / "case.sqlite3")) == 1
    finally:
        stop.set()
        dovecot.append(mail_user, newsletter())  # wake the idle so the thread can see stop
        thread.join(timeout=30)
        intake.close()


def _done_in_ledger(db: Path) -> int:
    """How many ledger rows are done, read without a lock; 0 before the case file exists."""
    try:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:
        return 0
    try:
        return connection.execute("SELECT count(*) FROM messages WHERE state = 'done'").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0
    finally:
        connection.close()


def test_500_messages_survive_random_sigkills(dovecot, mail_user, tmp_path):
    """GIVEN 500 messages WHEN the watcher is killed with SIGKILL at random moments and restarted until done
    THEN every message is recorded exactly once, none is lost, and the database is intact."""
    messages = [
        summary(1 + i % 4, ["escalated", "resolved", "actions agreed"][i % 3], n=i,
                sender=f"Agent {i} <agent{i}@police.example>")
        for i in range(500)
    ]
    env = environment(dovecot, mail_user, tmp_path)
    db = tmp_path / "case.sqlite3"
    dovecot.append_many(mail_user, messages)
    # Each kill lands at a random moment of the drain itself, not of the interpreter's start-up (seconds
    # on a loaded machine): once the run has committed some of its work, within the next 0.3 s. After
    # eight kills the last run drains the rest.
    rng = random.Random(20261123)
    kills = 0
    for attempt in range(60):
        before = _done_in_ledger(db)
        process = watch_once(env)
        if kills == 8:
            assert process.wait(timeout=300) == 0, said(process)
            break
        while process.poll() is None and _done_in_ledger(db) == before:
            time.sleep(0.02)
        if process.poll() is None:
            time.sleep(rng.uniform(0.0, 0.3))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
            continue
        assert process.returncode == 0, said(process)
        break
    else:
        pytest.fail("the watcher never finished draining")
    assert kills >= 3, "the test should have killed the watcher several times"
    ids = recorded_ledger_ids(db)
    assert len(ids) == len(set(ids)) == 500
    assert ledger_states(db) == {"done": 500}
    assert dovecot.folder_uids(mail_user, "INBOX") == {}
    assert len(dovecot.folder_uids(mail_user, "Resdesk/Processed")) == 500
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_recreated_mailbox_with_new_mail_at_low_uids(dovecot, mail_user, tmp_path):
    """GIVEN a drained inbox WHEN it is deleted and recreated (new UIDVALIDITY) with new mail at low UIDs
    THEN the new mail is processed, old ledger rows are kept apart, and an alert is raised."""
    env = environment(dovecot, mail_user, tmp_path)
    dovecot.append(mail_user, summary(1, "escalated", n=1), folder="Shared")
    env["RESDESK_MAILBOX__FOLDER"] = "Shared"
    assert watch_once(env).wait(timeout=120) == 0
    dovecot.recreate_folder(mail_user, "Shared")
    dovecot.append(mail_user, summary(2, "resolved", n=2, in_reply_to="<summary-1-1@police.example>"), folder="Shared")
    assert watch_once(env).wait(timeout=120) == 0
    db = tmp_path / "case.sqlite3"
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT uidvalidity, uid, state FROM messages ORDER BY id").fetchall()
        alerts = connection.execute("SELECT kind FROM alerts").fetchall()
        cases = connection.execute("SELECT ref, status FROM cases").fetchall()
    assert len(rows) == 2 and rows[0][0] != rows[1][0]
    assert rows[0][1] == rows[1][1] == "1"  # the same UID, told apart by UIDVALIDITY
    assert [r[2] for r in rows] == ["done", "done"]
    assert alerts == [("uidvalidity-changed",)]
    assert cases == [("OLD-2026-0001", "resolved")]


def test_two_watchers_started_together_handle_nothing_twice(dovecot, mail_user, tmp_path):
    """GIVEN 120 messages WHEN two watchers start together on the mailbox
    THEN one holds the lease while the other waits, and every message is recorded once."""
    dovecot.append_many(mail_user, [summary(1, "escalated", n=i, sender=f"A{i} <a{i}@nhs.example>") for i in range(120)])
    env = environment(dovecot, mail_user, tmp_path)
    first, second = watch_once(env), watch_once(env)
    assert first.wait(timeout=180) == 0, said(first)
    assert second.wait(timeout=180) == 0, said(second)
    ids = recorded_ledger_ids(tmp_path / "case.sqlite3")
    assert len(ids) == len(set(ids)) == 120


def test_a_colleagues_deleted_flag_survives_a_full_run(dovecot, mail_user, tmp_path):
    """GIVEN a message a colleague flagged \\Deleted, beside other mail WHEN the watcher runs
    THEN that message still exists afterwards and nothing was expunged."""
    flagged = dovecot.append(mail_user, newsletter(7), flags=(b"\\Deleted",))
    dovecot.append(mail_user, summary(1, "escalated"))
    flagged_summary = dovecot.append(mail_user, summary(2, "resolved", n=3), flags=(b"\\Deleted",))
    env = environment(dovecot, mail_user, tmp_path)
    assert watch_once(env).wait(timeout=120) == 0
    inbox = dovecot.folder_uids(mail_user, "INBOX")
    assert flagged in inbox and b"\\Deleted" in inbox[flagged]
    assert len(dovecot.folder_uids(mail_user, "Resdesk/Processed")) == 2  # the flagged summary was filed, not lost
    assert flagged_summary not in inbox
    sessions = dovecot.session_logouts(mail_user, 3)  # Dovecot's own count of what each session removed
    assert sessions and sum(s.get("expunged", 0) + s.get("deleted", 0) for s in sessions) == 0


def test_an_oversized_message_is_quarantined_unread_while_mail_flows(dovecot, mail_user, tmp_path):
    """GIVEN a 30 MB message between two summaries WHEN drained THEN it is quarantined with a reason
    naming the limit, and both summaries are recorded."""
    dovecot.append(mail_user, summary(1, "escalated", n=1))
    dovecot.append(mail_user, summary(1, "escalated", n=2, body_extra="x" * (30 * 1024 * 1024)))
    dovecot.append(mail_user, summary(1, "resolved", n=3, sender="Sam <sam@nhs.example>"))
    env = environment(dovecot, mail_user, tmp_path)
    assert watch_once(env).wait(timeout=180) == 0
    with sqlite3.connect(tmp_path / "case.sqlite3") as connection:
        rows = connection.execute("SELECT state, reason FROM messages ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["done", "quarantined", "done"]
    assert "over the 26,214,400-byte limit" in rows[1][1]
    assert len(dovecot.folder_uids(mail_user, "Resdesk/Quarantine")) == 1


def test_the_watchers_reader_process_starts_with_it_and_stops_when_it_closes(dovecot, mail_user, tmp_path):
    """GIVEN the settings of a watcher WHEN its intake is built with a reader process (``resdesk
    watch``) THEN the reader is running before any mail is drained (its start overlaps the watcher's
    own), and closing the intake stops it; built without one, no process is started."""
    import multiprocessing

    env = environment(dovecot, mail_user, tmp_path)
    settings = load_settings(None, environ={k: v for k, v in env.items() if k.startswith("RESDESK_")})
    before = set(multiprocessing.active_children())
    plain = build_intake(settings)
    try:
        assert set(multiprocessing.active_children()) == before
    finally:
        plain.close()
    intake = build_intake(settings, readers=True)
    try:
        started = set(multiprocessing.active_children()) - before
        assert len(started) == 1 and all(process.is_alive() for process in started)
    finally:
        intake.close()
    assert not any(process.is_alive() for process in started)
