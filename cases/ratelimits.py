"""Rate-limit counts kept in the case file: a ``limits`` storage (``casefile://``) for Flask-Limiter.

Failed sign-ins are counted per account and per address (``web.login_limit_per_*``). Kept in the
case file, every ``resdesk serve`` process counts into one table (``rate_limit_counts``) and a
restart forgets nothing, with no service beside the database (SQLite or PostgreSQL alike).

``limits`` ships storages for memory, Redis, Memcached and MongoDB only, and no maintained package
adds a SQL one, so this is the ``limits.storage.Storage`` interface over the case file, for the
fixed-window strategy (Flask-Limiter's default): one row per limit and key, holding the count and
when its window ends. A row's key is the SHA-256 of the limiter's key (which holds the user name as
typed, sometimes a password typed in the wrong box), so none is kept as typed and every key is 64
characters. Increments are one upsert (``INSERT … ON CONFLICT DO UPDATE … RETURNING``), atomic on
both databases; each increment also removes the rows whose window has ended.

Built by ``storage_from_string("casefile://", store=STORE)`` (Flask-Limiter's ``storage_options``);
``StoreError`` when the case file cannot be written, as every unit of work.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta, timezone

from limits.errors import ConfigurationError
from limits.storage import Storage
from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from resdesk.cases.models import RateLimitCount
from resdesk.errors import StoreError

SCHEME = "casefile"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _now() -> datetime:
    return datetime.fromtimestamp(time.time(), timezone.utc)


def _upsert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


class CaseFileStorage(Storage):
    """Fixed-window counts in the case file's ``rate_limit_counts`` table (``store``: an open ``Store``).

    Times are the wall clock's, UTC; ``get_expiry`` answers UNIX seconds as ``limits`` expects."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, *, store=None, **options):
        if store is None:
            raise ConfigurationError("The casefile:// rate-limit storage needs the open case file (store=…).")
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.store = store

    @property
    def base_exceptions(self) -> tuple[type[Exception], ...]:
        return (StoreError, SQLAlchemyError)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to the count of ``key``'s window (a new window of ``expiry`` seconds when none
        is running) and answer the count."""
        now = _now()
        digest = _digest(key)
        with self.store.transaction() as tx:
            session = tx.session
            # The ended windows go first, this key's with them, so the upsert starts it afresh.
            session.execute(delete(RateLimitCount).where(RateLimitCount.expires_at <= now))
            insert = _upsert(session.get_bind().dialect.name)
            table = RateLimitCount.__table__
            statement = insert(table).values(key=digest, count=amount, expires_at=now + timedelta(seconds=expiry))
            statement = statement.on_conflict_do_update(
                index_elements=[table.c.key], set_={"count": table.c.count + statement.excluded.count},
            ).returning(table.c.count)
            return int(session.execute(statement).scalar_one())

    def _row(self, key: str) -> RateLimitCount | None:
        with self.store.transaction() as tx:
            return tx.session.execute(select(RateLimitCount).where(
                RateLimitCount.key == _digest(key), RateLimitCount.expires_at > _now())).scalar_one_or_none()

    def get(self, key: str) -> int:
        """The count of ``key``'s running window (0 when none runs)."""
        row = self._row(key)
        return row.count if row else 0

    def get_expiry(self, key: str) -> float:
        """When ``key``'s running window ends (UNIX seconds; now when none runs)."""
        row = self._row(key)
        return row.expires_at.timestamp() if row else time.time()

    def check(self) -> bool:
        """Whether the case file answers."""
        try:
            with self.store.transaction() as tx:
                tx.session.execute(select(1))
        except (StoreError, SQLAlchemyError):
            return False
        return True

    def reset(self) -> int | None:
        """Forget every count; answer how many keys were counted."""
        with self.store.transaction() as tx:
            counted = tx.session.execute(select(func.count()).select_from(RateLimitCount)).scalar_one()
            tx.session.execute(delete(RateLimitCount))
        return int(counted)

    def clear(self, key: str) -> None:
        """Forget ``key``'s count."""
        with self.store.transaction() as tx:
            tx.session.execute(delete(RateLimitCount).where(RateLimitCount.key == _digest(key)))


__all__ = ["SCHEME", "CaseFileStorage"]
