"""Moving a blank case file between revisions, on SQLite and PostgreSQL, for the migration tests."""

from __future__ import annotations

import pytest
from alembic import command

from resdesk.cases.engine import _alembic_config


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    """A case file that does not exist yet: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'resdesk.sqlite3'}"
    return request.getfixturevalue("postgres").new_database()


def migrate(engine, revision: str, down: bool = False) -> None:
    """Upgrade (or downgrade) the case file behind ``engine`` to ``revision``."""
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)
