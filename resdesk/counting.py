"""Counters shared by every service process: prometheus-client's multiprocess mode, in the folder
``service.metrics_dir`` names (``var/metrics`` by default; empty turns it off).

``resdesk serve``, ``watch`` and ``tick`` call ``share_counters(settings)`` first, before anything
imports prometheus-client: it sets ``PROMETHEUS_MULTIPROC_DIR``, so each process writes its counters
and the acknowledgement-latency histogram into its own files there (``counter_<pid>.db``,
``histogram_<pid>.db``), and marks itself dead at exit (``mark_process_dead``; it keeps no live
gauges, so its files stay, and with them its counts). Whichever process
serves ``/metrics`` sums every file (``MultiProcessCollector``), so a tick run from the timer and the
watcher's sends are counted wherever Prometheus scrapes. The case file's gauges are not in the files:
they are read once at each scrape (``cases.metrics.CaseFileCollector``).

prometheus-client leaves a process's files behind when it ends (its counts must go on being summed), so
each tick ends by folding the files of the processes that have ended into one per kind (``fold_ended``),
under a lock that scrapes share: the folder holds the running processes' files and two more.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from resdesk.errors import UsageError
from resdesk.settings import Settings

ENVIRONMENT = "PROMETHEUS_MULTIPROC_DIR"
LOCK_FILE = ".lock"
FOLDED_KINDS = ("counter", "histogram")  # the kinds the product counts with; it keeps no gauges in files


def counters_folder(settings: Settings) -> Path | None:
    """The folder the service processes count into (absolute), or None when ``service.metrics_dir`` is empty."""
    folder = settings.service.metrics_dir
    return Path(folder).resolve() if folder else None


def share_counters(settings: Settings) -> Path | None:
    """Count this process's work into ``service.metrics_dir`` (made if missing) beside every other
    service process's; returns the folder, or None when this process counts alone. UsageError when the
    folder cannot be made.

    Must run before prometheus-client is first imported (it chooses where values live then): a process
    that has imported it already (the command run inside another program, as the tests do) counts alone,
    in memory, and its ``/metrics`` serves its own counts only."""
    folder = counters_folder(settings)
    if folder is None or "prometheus_client" in sys.modules:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"Setting service.metrics_dir names {folder}, which cannot be made ({exc.strerror}).") from None
    os.environ[ENVIRONMENT] = str(folder)
    from prometheus_client.multiprocess import mark_process_dead

    atexit.register(mark_process_dead, os.getpid(), str(folder))
    return folder


@contextmanager
def _folder_lock(folder: Path, kind: int) -> Iterator[None]:
    """``kind`` (``fcntl.LOCK_SH`` to read the folder, ``LOCK_EX`` to fold it) on the folder's lock file."""
    with open(folder / LOCK_FILE, "a+b") as lock:
        fcntl.flock(lock, kind)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _pid_of(path: Path) -> int | None:
    """The process id a file is named after (``counter_1234.db``), or None (``counter_ended.db``)."""
    name = path.stem.partition("_")[2]
    return int(name) if name.isdigit() else None


def fold_ended(folder: Path) -> int:
    """Fold the files of this machine's service processes that have ended into one file per kind
    (``counter_ended.db``, ``histogram_ended.db``), keeping every count; returns how many files went.

    Holds the folder's lock exclusively, so a scrape (which holds it shared, ``SharedCounters``) sees the
    files before or after, never between. A process id is judged ended when no process has it now."""
    from prometheus_client.mmap_dict import MmapedDict, mmap_key
    from prometheus_client.multiprocess import MultiProcessCollector

    from resdesk.cases.holders import process_ended

    folded = 0
    with _folder_lock(folder, fcntl.LOCK_EX):
        for kind in FOLDED_KINDS:
            ended = [path for path in folder.glob(f"{kind}_*.db")
                     if (pid := _pid_of(path)) is not None and process_ended(pid)]
            if not ended:
                continue
            target = folder / f"{kind}_ended.db"
            sources = [str(path) for path in ended] + ([str(target)] if target.exists() else [])
            merged = MultiProcessCollector.merge(sources, accumulate=False)
            fresh = folder / f"{kind}_ended.db.new"
            fresh.unlink(missing_ok=True)
            values = MmapedDict(str(fresh))
            try:
                for metric in merged:
                    for sample in metric.samples:
                        key = mmap_key(metric.name, sample.name, list(sample.labels), list(sample.labels.values()),
                                       metric.documentation)
                        values.write_value(key, sample.value, 0.0)
            finally:
                values.close()
            os.replace(fresh, target)
            for path in ended:
                path.unlink()
            folded += len(ended)
    return folded


class SharedCounters:
    """prometheus-client's ``MultiProcessCollector`` over ``folder``, read under the folder's shared lock."""

    def __init__(self, folder: Path):
        from prometheus_client.multiprocess import MultiProcessCollector

        self.folder = folder
        self.collector = MultiProcessCollector(None, path=str(folder))

    def collect(self):
        with _folder_lock(self.folder, fcntl.LOCK_SH):
            return list(self.collector.collect())


def counts_into(folder: Path) -> bool:
    """Whether this process's own counters are written into ``folder`` (so reading the folder counts them)."""
    from prometheus_client import values

    here = os.environ.get(ENVIRONMENT)
    return bool(getattr(values.ValueClass, "_multiprocess", False)) and here is not None and Path(here).resolve() == folder


__all__ = ["SharedCounters", "counters_folder", "counts_into", "fold_ended", "share_counters"]
