"""Named leases in the case file: one holder at a time for a mailbox's watcher and for the outbox's sender.

A lease is a row of ``leases`` (name, holder, expiry). ``take`` gets it when it is free,
lapsed, already the caller's, or held by a process on this host that has exited
(``cases.holders.holder_is_gone``: a watcher or tick killed without releasing it is taken
over at once rather than waited out); ``renew`` extends it while the holder still has it;
``release`` gives it up. Each is one short unit of work of its own, on SQLite and PostgreSQL
alike (the row is read ``FOR UPDATE``; two processes creating it at once: one wins).
Times are UTC.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from resdesk.cases.holders import holder_is_gone
from resdesk.cases.models import Lease, utcnow
from resdesk.cases.store import Store

__all__ = ["holder_of", "release", "renew", "take"]

log = logging.getLogger("resdesk.leases")


def _ttl(ttl: timedelta | float) -> timedelta:
    return ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)


def take(store: Store, name: str, holder: str, ttl: timedelta | float, *, now: datetime | None = None) -> bool:
    """Hold lease ``name`` as ``holder`` for ``ttl`` (a timedelta, or seconds) from ``now``; True
    if ``holder`` holds it now, False while another live holder does."""
    now = now or utcnow()
    try:
        with store.transaction() as tx:
            lease = tx.session.get(Lease, name, with_for_update=True)
            if lease is None:
                tx.session.add(Lease(name=name, holder=holder, expires_at=now + _ttl(ttl)))
                return True
            if lease.holder != holder and lease.expires_at > now:
                if not holder_is_gone(lease.holder):
                    return False
                log.warning("%s stopped without releasing the lease %s; taking it over", lease.holder, name)
            lease.holder = holder
            lease.expires_at = now + _ttl(ttl)
            return True
    except IntegrityError:  # another process created the lease at the same moment
        return False


def renew(store: Store, name: str, holder: str, ttl: timedelta | float, *, now: datetime | None = None) -> bool:
    """Extend ``holder``'s lease to ``ttl`` from ``now``; False if another holder took it over (a
    lapsed lease nobody took is still the holder's)."""
    now = now or utcnow()
    with store.transaction() as tx:
        lease = tx.session.get(Lease, name, with_for_update=True)
        if lease is None or lease.holder != holder:
            return False
        lease.expires_at = now + _ttl(ttl)
        return True


def release(store: Store, name: str, holder: str) -> None:
    """Give up the lease, if ``holder`` still holds it."""
    with store.transaction() as tx:
        tx.session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


def holder_of(store: Store, name: str, *, now: datetime | None = None) -> str | None:
    """Who holds the lease at ``now`` (None: no one, or it lapsed)."""
    now = now or utcnow()
    with store.transaction() as tx:
        lease = tx.session.get(Lease, name)
        return lease.holder if lease is not None and lease.expires_at > now else None
