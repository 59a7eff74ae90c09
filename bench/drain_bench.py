"""Drain: a backlog through the whole intake, as a ratio of a raw IMAP FETCH of the same mailbox.

A real Dovecot on loopback (the test suite's fixture) gets ``COUNT`` messages, a
mix of stage summaries, replies, newsletters and summaries carrying a Word
template. The baseline is what the server can serve: one imapclient connection
fetching every message body (``BODY.PEEK[]``, batches of 500). Then
``resdesk watch --once`` drains the same mailbox through the whole intake —
ledger claim, parse, classify, sender checks, forms, correlation, the case file,
the archive, MOVE — with sending switched off (outbound mail is measured by the
latency benchmark). The watcher runs as its own process so its peak resident
memory is its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COUNT = int(os.environ.get("RESDESK_BENCH_DRAIN_COUNT", "10000"))
TARGET_RATIO = 0.5
MEMORY_TARGET_MB = 200
ROOT = Path(__file__).resolve().parents[1]


def _messages(count: int) -> list[bytes]:
    from email.message import EmailMessage

    from resdesk.forms import fill_docx
    from resdesk.forms.records import StageSummary

    template = fill_docx(
        "stage-summary",
        StageSummary(case_ref=None, protocol="oldham", stage=2, summary="Met and agreed actions.", outcome="actions-agreed"),
    )
    messages = []
    for i in range(count):
        msg = EmailMessage()
        msg["From"] = f"Practitioner {i} <p{i}@agency{i % 7}.example>"
        msg["To"] = "escalations@partnership.example"
        msg["Date"] = "Mon, 14 Dec 2026 10:00:00 +0000"
        msg["Message-ID"] = f"<bench-{i}@agency.example>"
        kind = i % 10
        if kind < 6:
            msg["Subject"] = f"RE: Escalation & Resolution Protocol: Stage {1 + i % 4} Summary"
            msg.set_content(f"Summary of the meeting.\nOutcome: {['escalated', 'resolved', 'actions agreed'][i % 3]}\n")
        elif kind < 8:
            msg["Subject"] = "Escalation & Resolution Protocol: Stage 2 Summary (template attached)"
            msg.set_content("Please find the stage summary attached.")
            msg.add_attachment(template, maintype="application",
                               subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                               filename="stage-summary.docx")
        elif kind == 8:
            msg["Subject"] = "Team newsletter"
            msg.set_content("Nothing to do with escalations.")
        else:
            msg["Subject"] = "Re: our conversation"
            msg["In-Reply-To"] = f"<bench-{i - 9}@agency.example>"
            msg.set_content("Thanks, noted.")
        messages.append(msg.as_bytes())
    return messages


def _raw_fetch(dovecot, user) -> float:
    client = dovecot.client(user)
    try:
        started = time.perf_counter()
        client.select_folder("INBOX", readonly=True)
        uids = client.search("ALL")
        total = 0
        for start in range(0, len(uids), 500):
            for data in client.fetch(uids[start : start + 500], ["BODY.PEEK[]"]).values():
                total += len(data[b"BODY[]"])
        elapsed = time.perf_counter() - started
    finally:
        client.logout()
    assert total > 0
    return elapsed


def _peak_rss_mb(pid: int) -> float | None:
    """The process's resident high-water mark since it started its program (VmHWM)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _drain(env: dict[str, str]) -> tuple[float, float, str]:
    """Run the watcher; its peak memory is read from /proc while it runs, because the rusage of a
    child forked from this (large) process counts the parent's pages it shared before exec."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:  # files: nothing must drain them
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "resdesk", "watch", "--once", "--json"], cwd=ROOT, env=env, stdout=out, stderr=err,
        )
        peak = 0.0
        while process.poll() is None:
            peak = max(peak, _peak_rss_mb(process.pid) or 0.0)
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        out.seek(0), err.seek(0)
        if process.returncode != 0:
            raise RuntimeError(f"the watcher failed: {err.read().decode()[-2000:]}")
        summary = " ".join(out.read().decode().split())
    return elapsed, peak, summary


def run() -> list[str]:
    from tests.services.dovecot import DovecotServer

    server = DovecotServer().start()
    try:
        user = server.new_user()
        server.append_many(user, _messages(COUNT))
        fetch_seconds = _raw_fetch(server, user)
        with tempfile.TemporaryDirectory() as folder:
            env = dict(os.environ)
            env.update(server.mailbox_environment(user))
            env.update(
                RESDESK_STORAGE__DATABASE=f"sqlite:///{folder}/case.sqlite3",
                RESDESK_STORAGE__ARCHIVE=f"{folder}/archive",
                RESDESK_SMTP__ENABLED="false",
            )
            drain_seconds, peak_mb, summary = _drain(env)
    finally:
        server.stop()
    fetch_rate, drain_rate = COUNT / fetch_seconds, COUNT / drain_seconds
    ratio = drain_rate / fetch_rate
    return [
        f"{COUNT:,} messages (60% summaries, 20% with a Word template, 10% newsletters, 10% replies), "
        "Dovecot on loopback:",
        "",
        "| path | seconds | messages/s | ratio |",
        "|---|---:|---:|---:|",
        f"| raw imapclient FETCH BODY.PEEK[] (baseline) | {fetch_seconds:.1f} | {fetch_rate:,.0f} | 1.00 |",
        f"| `resdesk watch --once`, whole intake | {drain_seconds:.1f} | {drain_rate:,.0f} | {ratio:.3f} |",
        "",
        f"Target: drain at least half the raw FETCH rate — **{'met' if ratio >= TARGET_RATIO else 'NOT met'}** "
        f"({ratio:.3f}).",
        *([] if ratio >= TARGET_RATIO else [
            "",
            "Why: a raw FETCH only moves bytes, while the intake does per message what exactly-once filing "
            "needs — a ledger claim committed before any work, MIME parsing and classification, sender "
            "checks, reading any Word template, correlation, the case's events and its hash-chained audit "
            "entries committed together with the claim's completion (SQLite, synchronous), the archived "
            ".eml, and a MOVE. In Python that is milliseconds of CPU per message against microseconds for "
            "the FETCH. Batching the claims, the recording transactions and the MOVEs per fetch batch is "
            "the next step; even then parsing alone keeps the intake well below the FETCH rate.",
        ]),
        f"Peak resident memory of the watcher during the drain: {peak_mb:.0f} MB — target {MEMORY_TARGET_MB} MB "
        f"**{'met' if peak_mb <= MEMORY_TARGET_MB else 'NOT met'}**.",
        f"Watcher's own summary: `{summary}`",
    ]
