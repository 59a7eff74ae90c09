"""The watcher's time on each hostile input, against an ordinary stage summary in the same run.

Each input (``tests/intake/hostile_mail.py``: 100,000 addresses, 10,000 encoded words, a
40,000-character word in the subject, 25,000 blank lines, an 80 KB Outcome line, a 30,000-character
form field…) is delivered alone to a fresh Maildir and case file, then the watcher drains it and
the tick that follows renders and files whatever it owes (the acknowledgement PDF included), as
`resdesk watch` does after every drain. The bound is ``BOUND_SECONDS`` per input and at most
``BOUND_RATIO`` times the ordinary summary; a row over either says so.
"""

from __future__ import annotations

import mailbox
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

BOUND_SECONDS = 30.0
BOUND_RATIO = 10.0


def _settings(root: Path):
    from resdesk.settings import Settings

    return Settings.model_validate(
        {
            "partnership": {"protocol": "oldham", "business_unit": "oscp.group@oldham.example"},
            "mailbox": {"kind": "maildir", "path": str(root / "maildir")},
            "smtp": {"pickup_folder": str(root / "pickup")},
            "storage": {"database": f"sqlite:///{root / 'case.sqlite3'}", "archive": str(root / "archive")},
        }
    )


def _once(raw: bytes) -> tuple[float, str]:
    from resdesk.wiring import build_intake, tick

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        mailbox.Maildir(root / "maildir", create=True).add(raw)
        intake = build_intake(_settings(root))
        try:
            started = time.perf_counter()
            assert intake.watcher.acquire()
            try:
                report = intake.watcher.drain()
            finally:
                intake.watcher.release()
            tick(intake, datetime(2026, 12, 14, 11, 0, tzinfo=timezone.utc))
            elapsed = time.perf_counter() - started
        finally:
            intake.close()
    filed = ", ".join(f"{n} {state}" for state, n in report.filed.items() if n)
    return elapsed, filed


def run() -> list[str]:
    from tests.intake.hostile_mail import FOLLOW_UP, HOSTILE

    _once(FOLLOW_UP(1, "escalated"))  # warm: imports, the render worker's start-up
    baseline, _ = _once(FOLLOW_UP(1, "escalated"))
    lines = [
        f"Ordinary stage summary: {baseline:.2f} s (drain and tick). Bound per input: {BOUND_SECONDS:.0f} s "
        f"and {BOUND_RATIO:.0f}× the ordinary summary.",
        "",
        "| input | drain + tick | × ordinary | filed | within bound |",
        "|---|---|---|---|---|",
    ]
    for name, build in HOSTILE.items():
        elapsed, filed = _once(build())
        ratio = elapsed / baseline
        ok = elapsed <= BOUND_SECONDS and ratio <= BOUND_RATIO
        lines.append(f"| {name} | {elapsed:.2f} s | {ratio:.1f} | {filed} | {'yes' if ok else '**no**'} |")
    return lines
