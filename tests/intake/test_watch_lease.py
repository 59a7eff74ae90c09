"""The watcher's lease while it drains: renewed once a quarter of its term has passed, not a committed
write every fetch batch; a watcher held up past its term that lost the lease claims nothing more. On a
real Maildir and a real SQLite case file."""

from __future__ import annotations

from datetime import timedelta

import pytest

from resdesk.cases import leases
from resdesk.cases.models import utcnow
from resdesk.errors import IntakeError
from resdesk.intake import watch
from tests.intake.test_batches import _backlog, _desk


def _renewals(monkeypatch) -> list[str]:
    """The lease renewals the watcher writes, as it calls them."""
    written: list[str] = []
    renew = leases.renew

    def counted(store, name, holder, ttl, **kwargs):
        written.append(holder)
        return renew(store, name, holder, ttl, **kwargs)

    monkeypatch.setattr(watch.leases, "renew", counted)
    return written


def test_a_drain_renews_its_lease_once_a_quarter_of_its_term_has_passed_not_every_batch(tmp_path, monkeypatch):
    """GIVEN a backlog of four fetch batches and a watcher that has just taken its 60-second lease WHEN it
    drains them THEN the lease is not written again; WHEN more than a quarter of the term has passed
    since it was taken (15 s) THEN the next drain renews it once, and its later batches do not."""
    monkeypatch.setattr(watch, "FETCH_BATCH", 5)
    desk = _desk(tmp_path)
    renewals = _renewals(monkeypatch)
    for raw in _backlog(20):
        desk.deliver(raw)
    assert desk.watcher.lease_seconds == 60.0 and desk.watcher.acquire()
    assert desk.watcher.drain().filed["done"] == 20
    assert renewals == []
    for raw in _backlog(40)[20:]:
        desk.deliver(raw)
    desk.watcher._renewed -= 16  # as if 16 s had passed on the watcher's clock
    assert desk.watcher.drain().filed["done"] == 20
    assert renewals == [desk.watcher.worker]
    desk.watcher.release()


def test_a_watcher_held_up_past_its_term_whose_lease_was_taken_claims_nothing(tmp_path):
    """GIVEN a watcher whose lease lapsed while it was held up (its clock says the term has passed) and
    was taken by another watcher WHEN it drains THEN it stops with an error saying so before claiming
    anything, and every message is left for the watcher that holds the lease."""
    desk = _desk(tmp_path)
    for raw in _backlog(6):
        desk.deliver(raw)
    assert desk.watcher.acquire()
    desk.watcher._renewed -= desk.watcher.lease_seconds + 1
    later = utcnow() + timedelta(seconds=desk.watcher.lease_seconds + 1)
    assert leases.take(desk.store, desk.watcher.lease_name, "another-watcher", 60, now=later)
    with pytest.raises(IntakeError, match="taken by another watcher"):
        desk.watcher.drain()
    assert desk.ledger_rows() == []
