"""Start-up: ``resdesk --help`` as a user runs it, against the interpreter starting alone.

Both are whole processes timed from spawn to exit, alternating, and the
medians are reported; the difference is what the product itself adds.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 20
TARGET_SECONDS = 0.3
ROOT = Path(__file__).resolve().parents[1]


def _time(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def run() -> list[str]:
    script = Path(sys.executable).with_name("resdesk")
    help_command = [str(script), "--help"] if script.exists() else [sys.executable, "-m", "resdesk", "--help"]
    bare_command = [sys.executable, "-c", "pass"]
    _time(help_command), _time(bare_command)  # warm the file cache
    helps, bares = [], []
    for _ in range(RUNS):
        helps.append(_time(help_command))
        bares.append(_time(bare_command))
    help_median, bare_median = statistics.median(helps), statistics.median(bares)
    verdict = "met" if help_median <= TARGET_SECONDS else "NOT met"
    return [
        f"{RUNS} runs each, alternating, whole processes:",
        "",
        "| command | median s | ratio |",
        "|---|---:|---:|",
        f"| `python -c pass` (baseline: the interpreter alone) | {bare_median:.3f} | 1.00 |",
        f"| `{' '.join(Path(c).name for c in help_command)}` | {help_median:.3f} | {help_median / bare_median:.2f} |",
        "",
        f"Target: `resdesk --help` within {TARGET_SECONDS} s — **{verdict}** ({help_median:.3f} s).",
    ]
