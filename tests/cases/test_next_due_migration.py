"""Revision 0012 gives each case an indexed next due moment; every case starts due at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, inspect, text

from resdesk.cases.engine import create_store_engine
from tests.cases.migrating import migrate, url  # noqa: F401 - url is a fixture

AT = datetime(2026, 11, 2, 9, 30)


def test_every_case_is_due_at_once_after_the_upgrade_and_the_column_goes_on_downgrade(url):
    """GIVEN a case file at 0009 holding two cases WHEN upgraded to 0012 THEN each case has an indexed next due,
    the epoch (planned at the first tick); WHEN downgraded to 0009 THEN the column and its index are gone and the
    cases are kept."""
    engine = create_store_engine(url)
    migrate(engine, "0009")
    with engine.begin() as connection:
        for case_id in (1, 2):
            connection.execute(text(
                "INSERT INTO cases (id, ref, protocol, status, opened_at, created_at, updated_at) "
                "VALUES (:id, :ref, 'oldham', 'open', :at, :at, :at)"), {"id": case_id, "ref": f"OLD-2026-000{case_id}", "at": AT})

    migrate(engine, "0012")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id, next_due FROM cases ORDER BY id").columns(next_due=DateTime)).all() == [
            (1, datetime(1970, 1, 1)), (2, datetime(1970, 1, 1))]
    assert "ix_cases_next_due" in {index["name"] for index in inspect(engine).get_indexes("cases")}

    migrate(engine, "0009", down=True)
    engine.dispose()
    engine = create_store_engine(url)
    assert "next_due" not in {column["name"] for column in inspect(engine).get_columns("cases")}
    assert "ix_cases_next_due" not in {index["name"] for index in inspect(engine).get_indexes("cases")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM cases")).scalar_one() == 2
    engine.dispose()
