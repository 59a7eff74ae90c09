"""Alembic environment for the case file: runs on the connection ``open_store`` hands in."""

from __future__ import annotations

from alembic import context

from resdesk.cases.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # One migrator at a time when several processes open the store together.
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(74657301)")
    context.run_migrations()
