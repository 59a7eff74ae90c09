"""Opening the case file's database: SQLite tuned for several processes, or PostgreSQL, and its
schema under Alembic: a brand-new, empty database is created at the newest schema; an existing
one is upgraded only when asked (``resdesk migrate``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from tenacity import retry, retry_if_exception, stop_after_delay, wait_random_exponential
from sqlalchemy.engine import make_url

from resdesk.errors import SchemaOutOfDate, StoreError

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 30_000


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


@retry(retry=retry_if_exception(_locked), stop=stop_after_delay(BUSY_TIMEOUT_MS / 1000),
       wait=wait_random_exponential(multiplier=0.01, max=0.5), reraise=True)
def _use_wal(cursor) -> None:
    """Switch a new file to write-ahead logging; a file already in WAL is left as it is.

    The switch needs the file to itself, and SQLite answers "database is locked" at once,
    without waiting out the busy timeout, when a second process opens the same new file in the
    same instant; so the switch is retried, with jitter, for as long as the busy timeout."""
    (mode,) = cursor.execute("PRAGMA journal_mode").fetchone()
    if str(mode).lower() != "wal":
        cursor.execute("PRAGMA journal_mode = WAL")


def _tune_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout, and write transactions that take the lock up front.

    Every transaction starts with ``BEGIN IMMEDIATE``: two processes that read then
    write would otherwise deadlock on the lock upgrade, and SQLite would answer
    "database is locked" at once instead of waiting out the busy timeout.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _use_wal(cursor)
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_store_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their folder created and are tuned for sharing."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a terse message
        raise StoreError(f"The database URL {url!r} cannot be read ({exc}).") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _tune_sqlite(engine)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def _alembic_config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest schema revision this version of the product knows (``'0006'``)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at, or None when it has none (empty, or not a case file)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_empty(engine: Engine) -> bool:
    """True when the database holds no tables at all (a case file never opened before)."""
    from sqlalchemy import inspect

    with engine.connect() as connection:
        return not inspect(connection).get_table_names()


def upgrade_to_head(engine: Engine) -> None:
    """Run every migration not yet applied (safe when several processes run it at once)."""
    from alembic import command

    config = _alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except RuntimeError as exc:  # a migration that refuses to run says why in one sentence
        raise StoreError(str(exc)) from None


def ensure_current(engine: Engine) -> None:
    """Create an empty database at the newest schema; refuse one at an older schema.

    Raises ``SchemaOutOfDate`` (naming ``resdesk migrate``) when the database has a schema
    older than this version's, or none although it holds tables."""
    head = head_revision()
    current = current_revision(engine)
    if current == head:
        return
    if current is None:
        if is_empty(engine):
            upgrade_to_head(engine)  # a no-op if another process created it meanwhile
            return
        current = current_revision(engine)  # another process may have just created it
        if current == head:
            return
    raise SchemaOutOfDate(engine.url.render_as_string(hide_password=True), current, head)
