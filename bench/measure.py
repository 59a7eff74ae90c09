"""Running a benchmark's subject as its own process: its time, its peak memory, its output."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mb(pid: int) -> float | None:
    """A process's resident high-water mark since it started its program (VmHWM)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_measured(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``python -m resdesk ARGV``; (seconds, peak MB, stdout)."""
    return run_measured_python(["-m", "resdesk", *argv], env)


def run_measured_python(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run ``python ARGV``; (seconds, peak MB, stdout). Peak memory is read from /proc while it
    runs: the rusage of a child forked from this process counts pages it shared before exec."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=env or dict(os.environ), stdout=out,
                                   stderr=err)
        peak = 0.0
        while process.poll() is None:
            peak = max(peak, peak_rss_mb(process.pid) or 0.0)
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        out.seek(0), err.seek(0)
        if process.returncode != 0:
            raise RuntimeError(f"python {' '.join(argv)} failed: {err.read().decode()[-2000:]}")
        return elapsed, peak, out.read().decode()
