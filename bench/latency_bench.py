"""Latency: a summary appended to a real Dovecot inbox until its acknowledgement reaches the SMTP server.

``resdesk watch`` runs as a user would run it, against Dovecot and an SMTP server
(aiosmtpd) on loopback. Each of ``COUNT`` stage summaries is appended over a
separate IMAP connection, and the clock stops when the SMTP server has received
the acknowledgement threaded onto it (In-Reply-To). Measured with IDLE (push)
over an empty case file and over one of ``LARGE_FILE`` cases, steady (each
``STEADY_GAP`` after the previous acknowledgement) and back to back, ``BURST``
appended at once, and against a server that does not offer IDLE, where
the watcher polls every ``POLL_SECONDS``.

"Back to back" is read as the issue that set the targets measured it: each message is
appended the moment the previous one's acknowledgement arrives, with no pause, so every
message reaches a watcher that has just finished work and is entering IDLE (the moment a
lost wake-up would cost the whole wait). Its figures there, a median of 0.8 s with 5 of
100 messages waiting 40-60 s, are only possible one after another: 100 appended at once
cannot have a median of 0.8 s when each acknowledgement carries a rendered PDF. The burst
(all appended at once) is measured as well and reported; it is bounded by rendering one
PDF per acknowledgement on two cores, and the issue sets it no target.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import format_datetime, localtime
from pathlib import Path

QUICK = bool(os.environ.get("RESDESK_BENCH_QUICK"))
COUNT = int(os.environ.get("RESDESK_BENCH_LATENCY_COUNT", "30" if QUICK else "100"))
BURST = 20 if QUICK else 100
LARGE_FILE = 2000 if QUICK else 10000
POLL_SECONDS = 1.0
STEADY_GAP = 1.0  # steady: the next message this long after the previous acknowledgement
TARGET_P95 = 2.0
TARGET_P95_LARGE = 1.5
TARGET_BURST_MAX = 5.0  # every back-to-back message within 5 s
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


def _wait_for_ack(smtp, message_id: str, started: float, watcher, log, what: str, limit: float = 60) -> float:
    while not _acknowledged(smtp, message_id):
        if time.perf_counter() > started + limit or watcher.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"no acknowledgement for {what}: {log.read().decode()[-2000:]}")
        time.sleep(0.005)
    return time.perf_counter() - started


def _measure(dovecot, smtp, poll_seconds: float, casefile: Path | None = None, burst: bool = False,
             gap: float = 0.0) -> list[float]:
    """Latencies of COUNT summaries sent back to back (each the moment the previous one is
    acknowledged; steady: ``gap`` seconds after it), or BURST appended at once (each timed from its
    own APPEND), to a watcher over an empty case file, or a copy of ``casefile``."""
    user = dovecot.new_user()
    with tempfile.TemporaryDirectory() as folder:
        if casefile is not None:
            shutil.copy(casefile, Path(folder) / "case.sqlite3")
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
            # Started, its first whole-file tick done, and idling: one message through end to end.
            raw, message_id = _summary(-1)
            dovecot.append(user, raw)
            _wait_for_ack(smtp, message_id, time.perf_counter(), watcher, log, "the first message", limit=600)
            time.sleep(1.0)
            samples = []
            if burst:
                sent = []
                for i in range(BURST):
                    raw, message_id = _summary(i)
                    started = time.perf_counter()
                    dovecot.append(user, raw)
                    sent.append((started, message_id))
                pending = dict((message_id, started) for started, message_id in sent)
                deadline = time.perf_counter() + 600
                while pending:
                    for message_id in [m for m in pending if _acknowledged(smtp, m)]:
                        samples.append(time.perf_counter() - pending.pop(message_id))
                    if time.perf_counter() > deadline or watcher.poll() is not None:
                        log.seek(0)
                        raise RuntimeError(f"{len(pending)} of the burst unacknowledged: {log.read().decode()[-2000:]}")
                    time.sleep(0.01)
                return samples
            for i in range(COUNT):
                raw, message_id = _summary(i)
                started = time.perf_counter()
                dovecot.append(user, raw)
                samples.append(_wait_for_ack(smtp, message_id, started, watcher, log, f"message {i}"))
                time.sleep(gap)
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


def _large_casefile(folder: Path) -> Path:
    from bench.casefile import seed

    seed(f"sqlite:///{folder / 'large.sqlite3'}", str(folder / "archive"), LARGE_FILE)
    return folder / "large.sqlite3"


def run() -> list[str]:
    from tests.services.dovecot import CAPABILITIES_WITHOUT_IDLE_OR_MOVE, DovecotServer
    from tests.services.smtp import SmtpServer

    smtp = SmtpServer().start()
    rows = []
    burst_max = None
    large_p95 = large_max = None
    try:
        with tempfile.TemporaryDirectory() as seeded:
            large = _large_casefile(Path(seeded))
            for label, capabilities, poll, casefile, burst, gap, target in (
                (f"IDLE, empty case file, steady ({STEADY_GAP:g} s apart)", None, 600.0, None, False, STEADY_GAP,
                 TARGET_P95),
                ("IDLE, empty case file, back to back", None, 600.0, None, False, 0.0, TARGET_P95),
                (f"IDLE, {LARGE_FILE:,}-case file, steady ({STEADY_GAP:g} s apart)", None, 600.0, large, False,
                 STEADY_GAP, TARGET_P95_LARGE),
                (f"IDLE, {LARGE_FILE:,}-case file, back to back", None, 600.0, large, False, 0.0, TARGET_P95_LARGE),
                (f"IDLE, {LARGE_FILE:,}-case file, {BURST} appended at once", None, 600.0, large, True, 0.0, None),
                (f"polling every {POLL_SECONDS:g} s (server without IDLE), empty case file, back to back",
                 CAPABILITIES_WITHOUT_IDLE_OR_MOVE, POLL_SECONDS, None, False, 0.0, TARGET_P95),
            ):
                dovecot = DovecotServer(capabilities=capabilities).start()
                try:
                    smtp.clear()
                    samples = _measure(dovecot, smtp, poll, casefile, burst, gap)
                finally:
                    dovecot.stop()
                p50, p95, worst = statistics.median(samples), _percentile(samples, 0.95), max(samples)
                if burst:
                    burst_max = worst
                    verdict = "none (reported)"
                else:
                    verdict = f"p95 within {target:g} s: {'met' if p95 <= target else 'NOT met'}"
                    if casefile is not None and not gap:
                        large_p95, large_max = p95, worst
                        verdict += (f"; every one within {TARGET_BURST_MAX:g} s: "
                                    f"{'met' if worst <= TARGET_BURST_MAX else 'NOT met'}")
                rows.append(f"| {label} | {len(samples)} | {p50:.2f} | {p95:.2f} | {worst:.2f} | {verdict} |")
    finally:
        smtp.stop()
    return [
        "From APPEND to the acknowledgement (with its PDF) arriving at the SMTP server, `resdesk watch` "
        "against Dovecot and aiosmtpd on loopback. The large case file is seeded in its steady state "
        "(`bench.casefile`: every case resolved, everything owed already sent); its watcher plans the whole "
        "file from its first drain (before the figures) and every five minutes, 200 cases at a time with a look "
        "at the mailbox between pages. Steady: each appended a second after the previous acknowledgement; "
        "back to back: each appended the moment the previous acknowledgement arrived, as the issue measured it "
        "(see the module's notes); appended at once: all at once, each timed from its own APPEND.",
        "",
        "| mode | messages | p50 s | p95 s | max s | target |",
        "|---|---:|---:|---:|---:|---|",
        *rows,
        "",
        f"With {LARGE_FILE:,} cases the p95 is {large_p95:.2f} s against the empty file's in the same run "
        f"(second row), and the slowest back-to-back message took {large_max:.2f} s; the slowest of the burst "
        f"took {burst_max:.2f} s.",
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
