"""Failed sign-ins counted in the case file (``casefile://``, ``cases.ratelimits``): every workspace
process over one case file shares the counts, and a restart keeps them; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from resdesk.cases import open_store, users
from resdesk.cases.models import RateLimitCount
from resdesk.cases.ratelimits import CaseFileStorage
from resdesk.errors import UsageError
from resdesk.settings import Settings
from resdesk.web import create_app
from tests.web.casefile import PASSWORD, sign_in

ACCOUNT_LIMIT = 3


def _settings(tmp_path, store, **web) -> Settings:
    return Settings.model_validate({
        "storage": {"database": store.url, "archive": str(tmp_path / "archive")},
        "web": {"secure_cookies": False, "login_limit_per_account": f"{ACCOUNT_LIMIT} per 15 minutes",
                "login_limit_per_address": "50 per 15 minutes", **web},
    })


def _workspace(tmp_path, store, **web):
    """A workspace app as one ``resdesk serve`` process has it: its own connection to the case file."""
    app = create_app(_settings(tmp_path, store, **web), store)
    app.config["TESTING"] = True
    return app.test_client()


@pytest.fixture
def second_store(store, tmp_path):
    """The same case file opened again, with an engine of its own (as a second process opens it)."""
    opened = open_store(store.url, tmp_path / "archive")
    yield opened
    opened.close()


def _add_user(store, name="bu"):
    with store.transaction() as tx:
        users.add_user(tx, name, "business-unit", PASSWORD, actor="test")


def test_two_workspace_processes_share_one_count(store, second_store, tmp_path):
    """GIVEN two workspace apps, each on its own connection to one case file WHEN the account's failed
    sign-ins are spread over both, up to the limit THEN the next attempt is refused by either, even
    with the right password."""
    _add_user(store)
    first, second = _workspace(tmp_path, store), _workspace(tmp_path, second_store)
    for n in range(ACCOUNT_LIMIT):
        assert sign_in(first if n % 2 else second, "bu", "wrong password!").status_code == 401
    assert sign_in(first, "bu").status_code == 429
    assert sign_in(second, "bu").status_code == 429


def test_a_restarted_workspace_still_refuses(store, tmp_path):
    """GIVEN an account's failed sign-ins up to the limit WHEN the workspace stops and a new one opens the
    case file afresh THEN it refuses the account still; another account is served."""
    _add_user(store)
    _add_user(store, "auditor")
    before = _workspace(tmp_path, store)
    for _ in range(ACCOUNT_LIMIT):
        assert sign_in(before, "bu", "wrong password!").status_code == 401
    store.engine.dispose()
    reopened = open_store(store.url, tmp_path / "archive")
    try:
        after = _workspace(tmp_path, reopened)
        assert sign_in(after, "bu").status_code == 429
        assert sign_in(after, "auditor").status_code == 302
    finally:
        reopened.close()


def test_memory_storage_counts_in_each_process_alone(store, second_store, tmp_path):
    """GIVEN ``web.rate_limit_storage = "memory://"`` WHEN one app reaches an account's limit THEN another app
    over the same case file still lets the account in (the setting chooses the storage)."""
    _add_user(store)
    first = _workspace(tmp_path, store, rate_limit_storage="memory://")
    second = _workspace(tmp_path, second_store, rate_limit_storage="memory://")
    for _ in range(ACCOUNT_LIMIT):
        assert sign_in(first, "bu", "wrong password!").status_code == 401
    assert sign_in(first, "bu").status_code == 429
    assert sign_in(second, "bu").status_code == 302


def test_an_unknown_storage_is_refused_naming_the_setting(store, tmp_path):
    """GIVEN a storage URI no ``limits`` storage answers to WHEN the workspace is made THEN a UsageError names
    ``web.rate_limit_storage``."""
    with pytest.raises(UsageError, match="web.rate_limit_storage"):
        _workspace(tmp_path, store, rate_limit_storage="nosuch://here")


def test_a_window_that_has_ended_counts_afresh_and_keys_are_kept_as_digests(store):
    """GIVEN a key counted twice, then its window ended WHEN it is counted again THEN the count starts at 1 and
    the ended row is gone; the table holds the key's SHA-256, never the user name typed."""
    counts = CaseFileStorage("casefile://", store=store)
    key = "LIMITER/login-account/account:pat jones/3/15/minute"
    assert counts.incr(key, 900) == 1
    assert counts.incr(key, 900) == 2
    assert counts.get(key) == 2
    assert counts.get_expiry(key) > datetime.now(timezone.utc).timestamp() + 800
    with store.transaction() as tx:
        rows = tx.session.execute(select(RateLimitCount)).scalars().all()
        assert [len(row.key) for row in rows] == [64] and "pat" not in rows[0].key
        rows[0].expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    assert counts.get(key) == 0
    assert counts.incr("another key", 900) == 1  # and the ended window is cleared away
    with store.transaction() as tx:
        assert tx.session.execute(select(RateLimitCount)).scalars().all()[0].count == 1
        assert len(tx.session.execute(select(RateLimitCount)).scalars().all()) == 1
    assert counts.incr(key, 900) == 1
    counts.clear(key)
    assert counts.get(key) == 0 and counts.get("another key") == 1
    assert counts.check() is True
    assert counts.reset() == 1


def test_counts_from_many_threads_and_two_connections_are_all_kept(store, second_store):
    """GIVEN four threads on two connections to one case file WHEN each counts one key ten times at once
    THEN the count is forty: no increment is lost between them."""
    from concurrent.futures import ThreadPoolExecutor

    stores = [CaseFileStorage("casefile://", store=store), CaseFileStorage("casefile://", store=second_store)]

    def count(n: int) -> None:
        for _ in range(10):
            stores[n % 2].incr("LIMITER/login-address/127.0.0.1", 900)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(count, range(4)))
    assert stores[0].get("LIMITER/login-address/127.0.0.1") == 40
