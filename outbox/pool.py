"""Rendering planned messages on every core: a pool of worker processes.

``assemble_all(planned, sender)`` yields ``(planned, Assembled or error)`` in the
order given. A handful of messages (fewer than ``POOL_FROM``, the usual tick after
a drain) are rendered here, in this process: starting workers would cost more
than it saves. More than that go to ``workers`` worker processes (started with
``spawn``: a worker shares no lock, connection or thread with the process that
asked), at most ``2 × workers`` in flight, so memory stays bounded however many
are owed. A render that fails with a ``ResdeskError`` or ``ValueError`` is
yielded as that error, for the tick to report; the others still render.

The per-document time and memory limits of a render worker belong to the render
worker itself; this pool only spreads the work.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Iterable, Iterator

from resdesk.errors import ResdeskError

from .assemble import Assembled, assemble
from .plan import Planned

__all__ = ["POOL_FROM", "default_workers", "assemble_all"]

POOL_FROM = 32  # fewer render here: starting a worker (its imports, its fonts) costs seconds


def default_workers() -> int:
    """One worker per core this process may use, at most four."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def _assemble(planned: Planned, sender: str) -> Assembled | Exception:
    try:
        return assemble(planned, sender)
    except (ResdeskError, ValueError) as exc:
        return exc


def assemble_all(
    planned: Iterable[Planned], sender: str, workers: int | None = None, *, pool_from: int = POOL_FROM
) -> Iterator[tuple[Planned, Assembled | Exception]]:
    """Each of ``planned`` rendered and built into its mail, in order (see the module's notes)."""
    items = list(planned)
    workers = default_workers() if workers is None else workers
    if workers <= 1 or len(items) < pool_from:
        for item in items:
            yield item, _assemble(item, sender)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        waiting: deque[tuple[Planned, Future]] = deque()
        pending = iter(items)
        for item in pending:
            waiting.append((item, pool.submit(_assemble, item, sender)))
            if len(waiting) >= 2 * workers:
                break
        while waiting:
            item, future = waiting.popleft()
            result = future.result()
            following = next(pending, None)
            if following is not None:
                waiting.append((following, pool.submit(_assemble, following, sender)))
            yield item, result
