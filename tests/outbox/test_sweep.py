"""The whole case file is planned a page at a time, every few minutes, each case once per pass."""

from __future__ import annotations

from datetime import datetime, timezone

from resdesk.outbox.sweep import WholeFileSweep
from tests.render.casefile import REGISTRY


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _cases(store, count: int) -> list[int]:
    oldham = REGISTRY.get("oldham")
    with store.transaction() as tx:
        return [tx.create_case(oldham, datetime(2026, 12, 16, 9, tzinfo=timezone.utc)).id for _ in range(count)]


def test_a_pass_hands_out_every_case_once_in_pages_then_waits_for_its_time(sqlite_store):
    """GIVEN 25 cases and a sweep of pages of 10 every 300 s WHEN pages are asked for THEN the first
    pass starts at once and hands out 10, 10 and 5 cases, every case once in id order; then nothing
    until 300 s after the pass began, when the next pass starts from the first case again."""
    ids = _cases(sqlite_store, 25)
    clock = Clock()
    sweep = WholeFileSweep(sqlite_store, every_seconds=300, page=10, clock=clock)
    pages = []
    while (page := sweep.next_page()) is not None:
        pages.append(page)
        assert sweep.sweeping
    assert [len(page) for page in pages] == [10, 10, 5]
    assert [i for page in pages for i in page] == ids
    assert not sweep.sweeping
    clock.now = 299.0
    assert sweep.next_page() is None
    clock.now = 300.0
    assert sweep.next_page() == ids[:10]


def test_a_case_opened_during_a_pass_is_in_that_pass(sqlite_store):
    """GIVEN a pass under way WHEN a case is opened before the pass reaches the end THEN the pass
    hands it out too."""
    ids = _cases(sqlite_store, 3)
    sweep = WholeFileSweep(sqlite_store, page=2, clock=Clock())
    assert sweep.next_page() == ids[:2]
    (late,) = _cases(sqlite_store, 1)
    assert sweep.next_page() == [ids[2], late]
    assert sweep.next_page() is None
