"""The schema comes from migrations, and the migrations match the models."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from resdesk.cases import open_store
from resdesk.cases.engine import head_revision
from resdesk.cases.models import Base

TABLES = {
    "cases", "parties", "events", "messages", "documents", "audit", "outbox", "leases", "alerts",
    "mailboxes", "reference_counters", "alembic_version", "legal_holds", "disposals",
    "users", "alert_acknowledgements", "trusted_senders", "outbox_sent_to",
}


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from resdesk.cases.engine import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def test_opening_an_empty_database_upgrades_it_to_head(store):
    """GIVEN an empty database WHEN the store opens it THEN every table exists at the head revision."""
    names = set(inspect(store.engine).get_table_names())
    assert TABLES <= names
    with store.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == _head()


def _head() -> str:
    """The one head of the migration chain (a second head would be a fork)."""
    from alembic.script import ScriptDirectory

    from resdesk.cases.engine import MIGRATIONS

    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()
    assert len(heads) == 1, heads
    return heads[0]


def test_migrations_and_models_describe_the_same_schema(store):
    """GIVEN a database built by the migrations WHEN compared with the models THEN nothing differs."""
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    assert differences == []


def test_opening_twice_keeps_the_data(sqlite_url, tmp_path, oldham):
    """GIVEN a case file with a case WHEN it is opened again THEN the case is still there."""
    from datetime import datetime, timezone

    first = open_store(sqlite_url, tmp_path / "archive")
    with first.transaction() as tx:
        tx.create_case(oldham, datetime(2026, 5, 1, 9, tzinfo=timezone.utc))
    first.close()
    second = open_store(sqlite_url, tmp_path / "archive")
    with second.transaction() as tx:
        assert [c.ref for c in tx.all_cases()] == ["OLD-2026-0001"]
    second.close()


def test_sqlite_is_opened_in_wal_mode_with_foreign_keys(sqlite_store):
    """GIVEN an SQLite case file WHEN connected THEN WAL journaling and foreign keys are on."""
    with sqlite_store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


OPEN_AND_CREATE = """
import sys
from datetime import datetime, timezone
from resdesk.cases import open_store
from resdesk.protocols import default_registry
store = open_store(sys.argv[1], sys.argv[2])
with store.transaction() as tx:
    tx.create_case(default_registry().get("oldham"), datetime(2026, 5, 1, 9, tzinfo=timezone.utc))
"""


def test_two_processes_opening_a_new_file_together_both_succeed(sqlite_url, tmp_path):
    """GIVEN no database yet WHEN two processes open it and write at once THEN both succeed, with distinct refs."""
    processes = [
        subprocess.Popen([sys.executable, "-c", OPEN_AND_CREATE, sqlite_url, str(tmp_path / "archive")],
                         stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for process in processes:
        _, error = process.communicate(timeout=60)
        assert process.returncode == 0, error.decode()
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    with sqlite3.connect(database) as connection:
        refs = sorted(r for (r,) in connection.execute("SELECT ref FROM cases"))
    assert refs == ["OLD-2026-0001", "OLD-2026-0002"]


def test_an_unreadable_url_is_one_clear_error(tmp_path):
    """GIVEN a database URL that is not one WHEN the store is opened THEN a StoreError names the URL."""
    import pytest

    from resdesk.errors import StoreError

    with pytest.raises(StoreError, match="not-a-url"):
        open_store("not-a-url", tmp_path / "archive")


def test_two_processes_opening_a_new_postgresql_database_together_both_succeed(postgres, tmp_path):
    """GIVEN an empty PostgreSQL database WHEN two processes open it and write at once THEN the migration runs
    once and both cases are stored with distinct references."""
    url = postgres.new_database()
    processes = [
        subprocess.Popen([sys.executable, "-c", OPEN_AND_CREATE, url, str(tmp_path / "archive")], stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for process in processes:
        _, error = process.communicate(timeout=60)
        assert process.returncode == 0, error.decode()
    store = open_store(url, tmp_path / "archive")
    with store.transaction() as tx:
        assert sorted(c.ref for c in tx.all_cases()) == ["OLD-2026-0001", "OLD-2026-0002"]
    store.close()


def test_a_new_file_switches_to_wal_once_another_writer_lets_go(tmp_path):
    """GIVEN a new SQLite file another process is writing to (it holds the write lock)
    WHEN the case file is opened THEN the switch to write-ahead logging waits for the writer
    instead of failing with "database is locked" (SQLite refuses that switch at once, without
    its busy timeout, while another connection holds the write lock)."""
    import threading

    from sqlalchemy import text

    from resdesk.cases.engine import create_store_engine

    database = tmp_path / "new.sqlite3"
    writer = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE first_writer (n INTEGER)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO first_writer VALUES (1)")
    release = threading.Timer(0.5, lambda: writer.execute("COMMIT"))
    release.start()
    try:
        engine = create_store_engine(f"sqlite:///{database}")
        with engine.connect() as connection:
            mode = connection.execute(text("PRAGMA journal_mode")).scalar_one()
        engine.dispose()
    finally:
        release.join()
        writer.close()
    assert mode == "wal"
