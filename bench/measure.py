"""Running a benchmark's subject as its own process: its time, its peak memory, its output."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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


def own_cpu_seconds(pid: int) -> float | None:
    """A process's own CPU seconds so far (user and system, every thread; not its children's), from
    ``/proc/PID/stat``."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def children_of(pid: int) -> list[int]:
    """The process's children, from every one of its threads' ``children`` lists."""
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as listing:
                found.extend(int(child) for child in listing.read().split())
    except OSError:
        pass
    return found


def descendants_of(pid: int) -> list[int]:
    """Every process started under ``pid`` that still runs (children, their children, ...)."""
    found, waiting = [], children_of(pid)
    while waiting:
        child = waiting.pop()
        found.append(child)
        waiting.extend(children_of(child))
    return found


@dataclass(frozen=True)
class Measured:
    """One measured run: wall seconds, the process's own peak resident MB, the largest peak of
    any process it started (a render worker), its stdout, and the CPU seconds (user and system)
    of it and every process it started and waited for (a reader process), and of the process alone
    (as last seen, at most a twentieth of a second before it ended)."""

    seconds: float
    peak_mb: float
    child_peak_mb: float
    out: str
    cpu_seconds: float = 0.0
    own_cpu_seconds: float = 0.0

    @property
    def tree_peak_mb(self) -> float:
        """The process's peak plus its largest child's: an upper bound of what the two held at once."""
        return self.peak_mb + self.child_peak_mb


def run_measured(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``python -m resdesk ARGV``; (seconds, peak MB, stdout)."""
    return run_measured_python(["-m", "resdesk", *argv], env)


def run_measured_python(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run ``python ARGV``; (seconds, peak MB, stdout). Peak memory is read from /proc while it
    runs: the rusage of a child forked from this process counts pages it shared before exec."""
    measured = run_measured_tree(argv, env)
    return measured.seconds, measured.peak_mb, measured.out


def run_measured_tree(argv: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run ``python ARGV`` and follow the processes it starts as well (see ``Measured``)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=env or dict(os.environ), stdout=out,
                                   stderr=err)
        peak, children, own = 0.0, {}, 0.0
        while process.poll() is None:
            peak = max(peak, peak_rss_mb(process.pid) or 0.0)
            own = max(own, own_cpu_seconds(process.pid) or 0.0)
            for child in descendants_of(process.pid):
                children[child] = max(children.get(child, 0.0), peak_rss_mb(child) or 0.0)
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        out.seek(0), err.seek(0)
        if process.returncode != 0:
            raise RuntimeError(f"python {' '.join(argv)} failed: {err.read().decode()[-2000:]}")
        return Measured(elapsed, peak, max(children.values(), default=0.0), out.read().decode(), cpu, own)
