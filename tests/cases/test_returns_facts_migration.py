"""Revision 0010 moves the area of disagreement and the agencies from case columns into case facts."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import JSON, inspect, text

from resdesk.cases.engine import _alembic_config, create_store_engine

AT = datetime(2026, 11, 2, 9, 30)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'resdesk.sqlite3'}"
    return request.getfixturevalue("postgres").new_database()


def _migrate(engine, revision: str, down: bool = False) -> None:
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def _facts(engine) -> dict[tuple[int, str], tuple[object, str, dict]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT case_id, name, value, source, detail FROM case_facts")
                                  .columns(value=JSON, detail=JSON)).all()
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows}


def test_columns_become_facts_and_come_back_on_downgrade(url):
    """GIVEN a case file at 0007 whose cases hold an area and agencies in columns, one case already holding a
    raising-agency fact a person corrected WHEN upgraded to 0010 THEN the columns are gone and each value is a
    fact saying where it came from, the person's fact kept; WHEN downgraded THEN the columns hold the facts'
    values again and the facts unknown before 0010 are removed."""
    engine = create_store_engine(url)
    _migrate(engine, "0007")
    with engine.begin() as connection:
        for case_id, area, raising, responding in ((1, "plans", "Oakfield Primary", "Children's Social Care"),
                                                   (2, None, "Police", None)):
            connection.execute(text(
                "INSERT INTO cases (id, ref, protocol, status, opened_at, area_of_disagreement, raising_agency, "
                "responding_agency, created_at, updated_at) VALUES (:id, :ref, 'oldham', 'open', :at, :area, "
                ":raising, :responding, :at, :at)"),
                {"id": case_id, "ref": f"OLD-2026-000{case_id}", "at": AT, "area": area, "raising": raising,
                 "responding": responding})
        connection.execute(text(
            "INSERT INTO case_facts (case_id, name, value, source, estimated, set_by, set_at, reason, detail) "
            "VALUES (2, 'raising_agency', :value, 'person', :no, 'dana', :at, 'typo', '{}')"),
            {"value": json.dumps("Greater Manchester Police"), "no": False, "at": AT})

    _migrate(engine, "0010")
    assert not {"area_of_disagreement", "raising_agency", "responding_agency"} & {
        c["name"] for c in inspect(engine).get_columns("cases")}
    facts = _facts(engine)
    assert facts[(1, "area_of_disagreement")] == ("plans", "message", {"moved_from": "cases.area_of_disagreement"})
    assert facts[(1, "responding_agency")][0] == "Children's Social Care"
    assert facts[(2, "raising_agency")][:2] == ("Greater Manchester Police", "person")
    assert (2, "area_of_disagreement") not in facts and (2, "responding_agency") not in facts

    _migrate(engine, "0007", down=True)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT id, area_of_disagreement, raising_agency, responding_agency FROM cases ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(1, "plans", "Oakfield Primary", "Children's Social Care"),
                                        (2, None, "Greater Manchester Police", None)]
    assert {name for _, name in _facts(engine)} == {"raising_agency"}
    engine.dispose()
