"""Rendering planned messages on every core: threads over the render workers.

``assemble_all(planned, sender)`` yields ``(planned, Assembled or error)`` in the
order given. Layout, where the time goes, happens in render worker processes
(``render.worker``): the product's shared ``RenderPool`` keeps up to one per core
started. So this module needs no processes of its own: ``workers`` threads each
build one message at a time here (composing its mail, filling its Word copy) and
hand its documents to an idle render worker, so as many documents are laid out at
once as there are cores. At most ``2 × workers`` messages are in hand at once, so
memory stays bounded however many are owed. A single message is built in the
calling thread. A render that fails with a ``ResdeskError`` or ``ValueError`` is
yielded as that error, for the tick to report; the others still render.

The per-document time and memory limits belong to the render workers themselves;
this module only spreads the work.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Iterable, Iterator

from resdesk.errors import ResdeskError
from resdesk.render.worker import worker_count

from .assemble import Assembled, assemble
from .plan import Planned

__all__ = ["assemble_all"]


def _assemble(planned: Planned, sender: str) -> Assembled | Exception:
    try:
        return assemble(planned, sender)
    except (ResdeskError, ValueError) as exc:
        return exc


def assemble_all(
    planned: Iterable[Planned], sender: str, workers: int | None = None
) -> Iterator[tuple[Planned, Assembled | Exception]]:
    """Each of ``planned`` rendered and built into its mail, in order (see the module's notes);
    ``workers``: how many at once (default: one per core, at most four)."""
    items = list(planned)
    workers = min(worker_count() if workers is None else workers, len(items))
    if workers <= 1:
        for item in items:
            yield item, _assemble(item, sender)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="resdesk-render") as pool:
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
