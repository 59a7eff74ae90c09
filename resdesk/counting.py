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
"""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path

from resdesk.errors import UsageError
from resdesk.settings import Settings

ENVIRONMENT = "PROMETHEUS_MULTIPROC_DIR"


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


def counts_into(folder: Path) -> bool:
    """Whether this process's own counters are written into ``folder`` (so reading the folder counts them)."""
    from prometheus_client import values

    here = os.environ.get(ENVIRONMENT)
    return bool(getattr(values.ValueClass, "_multiprocess", False)) and here is not None and Path(here).resolve() == folder


__all__ = ["counters_folder", "counts_into", "share_counters"]
