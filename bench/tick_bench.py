"""Tick: ``resdesk tick`` with 100, 1,000 (and, in a full run, 10,000) acknowledgements owed,
and with 10,000 cases owing nothing.

Each case file is seeded in its steady state (``bench.casefile``): every case
resolved, everything it was owed already sent, except the acknowledgements of
the first N cases. ``resdesk tick`` then runs as its own process against aiosmtpd
on loopback, rendering, queueing and sending those N; its time and peak resident
memory are measured. Linear means the tick with 1,000 owed takes at most 10× the
tick with 100 (the same run, the same machine).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from bench.casefile import BUSINESS_UNIT, OWN, seed
from bench.measure import run_measured

QUICK = bool(os.environ.get("RESDESK_BENCH_QUICK"))
FULL = bool(os.environ.get("RESDESK_BENCH_FULL"))
OWED = (10, 100) if QUICK else (100, 1000, 10000) if FULL else (100, 1000)
IDLE_CASES = 2000 if QUICK else 10000


def _tick(folder: Path, cases: int, owed: int, smtp) -> tuple[float, float, int]:
    url = f"sqlite:///{folder / 'case.sqlite3'}"
    seed(url, str(folder / "archive"), cases, owed_acknowledgements=owed)
    env = dict(os.environ)
    env.update(
        RESDESK_PARTNERSHIP__PROTOCOL="oldham", RESDESK_PARTNERSHIP__BUSINESS_UNIT=BUSINESS_UNIT,
        RESDESK_STORAGE__DATABASE=url, RESDESK_STORAGE__ARCHIVE=str(folder / "archive"),
        RESDESK_SMTP__HOST=smtp.host, RESDESK_SMTP__PORT=str(smtp.port), RESDESK_SMTP__SECURITY="none",
        RESDESK_SMTP__SENDER=OWN, RESDESK_SMTP__RATE_PER_RECIPIENT_PER_HOUR="1000",
    )
    before = len(smtp.messages)
    seconds, peak, _ = run_measured(["tick", "--json"], env)
    return seconds, peak, len(smtp.messages) - before


def run() -> list[str]:
    from tests.services.smtp import SmtpServer

    smtp = SmtpServer().start()
    rows, times = [], {}
    try:
        with tempfile.TemporaryDirectory() as root:
            for owed in OWED:
                folder = Path(root) / f"owed-{owed}"
                folder.mkdir()
                seconds, peak, sent = _tick(folder, owed, owed, smtp)
                times[owed] = seconds
                rows.append(f"| {owed:,} cases, {owed:,} acknowledgements owed | {sent:,} | {seconds:.1f} | "
                            f"{seconds / owed * 1000:.0f} | {peak:.0f} |")
                shutil.rmtree(folder)
            folder = Path(root) / "idle"
            folder.mkdir()
            seconds, peak, sent = _tick(folder, IDLE_CASES, 0, smtp)
            rows.append(f"| {IDLE_CASES:,} cases, nothing owed | {sent} | {seconds:.1f} | - | {peak:.0f} |")
    finally:
        smtp.stop()
    small, large = OWED[0], OWED[1]
    ratio = times[large] / times[small]
    verdict = "met" if ratio <= (large / small) else "NOT met"
    return [
        "`resdesk tick` as its own process, sending to aiosmtpd on loopback; each case file seeded in its "
        "steady state (everything sent but the acknowledgements owed):",
        "",
        "| case file | sent | seconds | ms per message | peak MB |",
        "|---|---:|---:|---:|---:|",
        *rows,
        "",
        f"Tick with {large:,} owed ÷ tick with {small:,} owed: **{ratio:.1f}×** — linear means at most "
        f"{large / small:.0f}×: **{verdict}**. Each owed acknowledgement is rendered (its PDF) on the render "
        "workers, one per core, "
        "then sent with one indexed rate-limit query per recipient.",
    ]
