"""The whole case file planned a page at a time, so mail arriving meanwhile is not kept waiting.

The watcher plans the cases each drain touched at once: that is what sends acknowledgements.
Reminders and overdue alerts come due without any mail, so the whole case file is planned
too, every ``every_seconds``. Planning 10,000 cases in one go takes seconds, and a message
arriving meanwhile waited that long for its acknowledgement; so a ``WholeFileSweep`` hands
out the case file ``page`` cases at a time (in id order, one indexed query per page), and
the watcher looks for new mail between pages and drains it first.
"""

from __future__ import annotations

import time
from typing import Callable

from sqlalchemy import select

from resdesk.cases.models import Case
from resdesk.cases.store import Store

__all__ = ["SWEEP_EVERY_SECONDS", "SWEEP_PAGE", "WholeFileSweep"]

SWEEP_EVERY_SECONDS = 300.0  # how often the whole case file is planned (reminders, overdue alerts)
SWEEP_PAGE = 200  # cases planned between two looks at the mailbox (a fraction of a second)


class WholeFileSweep:
    """Pages of case ids covering the whole case file once every ``every_seconds`` (monotonic).

    ``next_page()`` returns the next page of the pass under way, starts a pass when one is due
    (the first at once), or returns None when there is nothing to plan now. ``sweeping`` is
    True between a pass's first page and its end.
    """

    def __init__(self, store: Store, every_seconds: float = SWEEP_EVERY_SECONDS, page: int = SWEEP_PAGE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store, self.every_seconds, self.page, self.clock = store, every_seconds, page, clock
        self._after: int | None = None  # the last case id handed out in the pass under way
        self._due = float("-inf")

    @property
    def sweeping(self) -> bool:
        return self._after is not None

    def next_page(self) -> list[int] | None:
        if self._after is None:
            if self.clock() < self._due:
                return None
            self._due = self.clock() + self.every_seconds
            self._after = 0
        with self.store.transaction() as tx:
            ids = list(tx.session.execute(
                select(Case.id).where(Case.id > self._after).order_by(Case.id).limit(self.page)
            ).scalars())
        if not ids:
            self._after = None
            return None
        self._after = ids[-1]
        return ids
