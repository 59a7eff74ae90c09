"""Latency: a summary appended to a real Dovecot inbox until its acknowledgement reaches the SMTP server.

``resdesk watch`` runs as a user would run it, against Dovecot and an SMTP server
(aiosmtpd) on loopback. Each of ``COUNT`` stage summaries is appended over a
separate IMAP connection, and the clock stops when the SMTP server has received
the acknowledgement threaded onto it (In-Reply-To). Measured twice: with IDLE
(push), and against a server that does not offer IDLE, where the watcher polls
every ``POLL_SECONDS``.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import format_datetime, localtime
from pathlib import Path

COUNT = int(os.environ.get("RESDESK_BENCH_LATENCY_COUNT", "200"))
POLL_SECONDS = 1.0
TARGET_P95 = 2.0
ROOT = Path(__file__).resolve().parents[1]
STOP_PROBLEMS: list[str] = []  # what a watcher that did not stop on SIGTERM was doing


def _summary(i: int) -> tuple[bytes, str]:
    message_id = f"<latency-{i}-{time.time_ns()}@police.example>"
    msg = EmailMessage()
    msg["From"] = f"Officer {i} <officer{i}@police.example>"
    msg["To"] = "escalations@partnership.example"
    msg["Subject"] = f"Escalation & Resolution Protocol: Stage {1 + i % 3} Summary"
    msg["Date"] = format_datetime(localtime())
    msg["Message-ID"] = message_id
    msg.set_content("Summary of today's discussion.\nOutcome: actions agreed\n")
    return msg.as_bytes(), message_id


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _acknowledged(smtp, message_id: str) -> bool:
    return any(message_id.encode() in m.raw.split(b"\r\n\r\n", 1)[0] for m in smtp.messages)


def _measure(dovecot, smtp, poll_seconds: float) -> list[float]:
    user = dovecot.new_user()
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ)
        env.update(dovecot.mailbox_environment(user))
        env.update(
            RESDESK_STORAGE__DATABASE=f"sqlite:///{folder}/case.sqlite3",
            RESDESK_STORAGE__ARCHIVE=f"{folder}/archive",
            RESDESK_MAILBOX__POLL_SECONDS=str(poll_seconds),
            RESDESK_SMTP__HOST=smtp.host,
            RESDESK_SMTP__PORT=str(smtp.port),
            RESDESK_SMTP__SECURITY="none",
            RESDESK_SMTP__RATE_PER_RECIPIENT_PER_HOUR="1000",
        )
        log = open(Path(folder) / "watch.log", "w+b")  # a file, not a pipe nobody drains
        watcher = subprocess.Popen(
            [sys.executable, "-m", "resdesk", "watch"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
        )
        try:
            time.sleep(3.0)  # started and idling
            samples = []
            for i in range(COUNT):
                raw, message_id = _summary(i)
                started = time.perf_counter()
                dovecot.append(user, raw)
                deadline = started + 60
                while not _acknowledged(smtp, message_id):
                    if time.perf_counter() > deadline or watcher.poll() is not None:
                        log.seek(0)
                        raise RuntimeError(f"no acknowledgement for message {i}: {log.read().decode()[-2000:]}")
                    time.sleep(0.005)
                samples.append(time.perf_counter() - started)
        finally:
            watcher.terminate()
            try:
                watcher.wait(timeout=30)
            except subprocess.TimeoutExpired:
                watcher.send_signal(signal.SIGUSR1)  # its stacks, for the log
                time.sleep(1)
                watcher.kill()
                watcher.wait()
                log.seek(0)
                STOP_PROBLEMS.append(log.read().decode(errors="replace")[-4000:])
            finally:
                log.close()
    return samples


def run() -> list[str]:
    from tests.services.dovecot import CAPABILITIES_WITHOUT_IDLE_OR_MOVE, DovecotServer
    from tests.services.smtp import SmtpServer

    smtp = SmtpServer().start()
    rows = []
    try:
        for label, capabilities, poll in (
            ("IDLE (push)", None, 600.0),
            (f"polling every {POLL_SECONDS:g} s (server without IDLE)", CAPABILITIES_WITHOUT_IDLE_OR_MOVE, POLL_SECONDS),
        ):
            dovecot = DovecotServer(capabilities=capabilities).start()
            try:
                smtp.clear()
                samples = _measure(dovecot, smtp, poll)
            finally:
                dovecot.stop()
            p50, p95 = statistics.median(samples), _percentile(samples, 0.95)
            verdict = "met" if p95 <= TARGET_P95 else "NOT met"
            rows.append(
                f"| {label} | {len(samples)} | {p50:.2f} | {p95:.2f} | {max(samples):.2f} | "
                f"{p95 / TARGET_P95:.2f} | {verdict} |"
            )
    finally:
        smtp.stop()
    return [
        f"From APPEND to the acknowledgement (with its PDF) arriving at the SMTP server, {COUNT} messages "
        "one after another, `resdesk watch` against Dovecot and aiosmtpd on loopback:",
        "",
        "| mode | messages | p50 s | p95 s | max s | p95 / 2 s target | p95 within 2 s |",
        "|---|---:|---:|---:|---:|---:|---|",
        *rows,
        *(
            [
                "",
                f"**A watcher did not stop within 30 s of SIGTERM** in {len(STOP_PROBLEMS)} of the runs (it was "
                "killed; the figures above are unaffected). Its last words and stacks:",
                "",
                "```",
                *STOP_PROBLEMS[-1].splitlines()[-40:],
                "```",
            ]
            if STOP_PROBLEMS
            else []
        ),
    ]
