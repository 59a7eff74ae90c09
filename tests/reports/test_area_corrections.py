"""A person corrects a case's area of disagreement or agency with ``resdesk case --set``; the returns
count the corrected fact (one place holds it)."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from resdesk.cases import open_store
from resdesk.cli import main
from resdesk.reports import build_report, parse_period
from tests.reports.scenario import REGISTRY, build_case_file

from .test_reports_scenario import NOW

Q3 = parse_period("2026Q3")


@pytest.fixture
def scenario(tmp_path):
    url = f"sqlite:///{tmp_path / 'resdesk.sqlite3'}"
    store = open_store(url, tmp_path / "archive")
    refs = build_case_file(store, tmp_path)
    store.close()
    config = tmp_path / "resdesk.toml"
    config.write_text(f'[storage]\ndatabase = "{url}"\narchive = "{tmp_path / "archive"}"\n', encoding="utf-8")
    return url, tmp_path / "archive", config, refs


def _case(config, ref: str, *args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["case", ref, "--config", str(config), "--json", *args])
    return status, out.getvalue() + err.getvalue()


def _by_area(url, archive) -> dict[str, int]:
    store = open_store(url, archive)
    try:
        report = build_report("activity", store, Q3, REGISTRY, NOW)
    finally:
        store.close()
    (table,) = [t for t in report.tables if t.title == "Cases opened by area of disagreement"]
    return dict(table.rows)


def test_a_corrected_area_and_agency_are_what_the_returns_count(scenario):
    """GIVEN Q3's cases O0 (roles and responsibilities), O1 (thresholds, stated in its mail) and G0 (plans)
    WHEN a person sets O1's area to "Drift & delay" and its responding agency with a reason THEN the fact is
    the person's, its history keeps the mail's value, and Q3's activity return counts O1 under drift and
    delay and lists the new agency; WHEN a person sets an area outside the seeds' list THEN it is refused
    naming the areas, and nothing changes."""
    url, archive, config, refs = scenario
    assert _by_area(url, archive) == {"Thresholds": 1, "Roles and responsibilities": 1, "Plans": 1}

    status, out = _case(config, refs["O1"], "--set", "area_of_disagreement=Drift & delay",
                        "--set", "responding-agency=Oldham Early Help", "--by", "Pat Jones",
                        "--reason", "the stage 2 summary named the wrong area")
    assert status == 0, out
    case = json.loads(out)
    assert {k: case["facts"]["area_of_disagreement"][k] for k in ("value", "source", "set_by")} == {
        "value": "drift-and-delay", "source": "person", "set_by": "Pat Jones"}
    history = [e["detail"] for e in case["events"] if e["kind"] == "fact-set"
               and e["detail"]["name"] == "area_of_disagreement"]
    assert [(h["value"], h["source"]) for h in history] == [("thresholds", "message"), ("drift-and-delay", "person")]
    assert _by_area(url, archive) == {"Drift and delay": 1, "Roles and responsibilities": 1, "Plans": 1}
    store = open_store(url, archive)
    try:
        export = build_report("activity", store, Q3, REGISTRY, NOW).export
    finally:
        store.close()
    row = dict(zip(export.columns, next(r for r in export.rows if r[0] == refs["O1"])))
    assert (row["area_of_disagreement"], row["responding_agency"]) == ("drift-and-delay", "Oldham Early Help")

    status, out = _case(config, refs["O1"], "--set", "area_of_disagreement=housing", "--by", "Pat Jones",
                        "--reason", "a guess")
    assert status != 0 and "Thresholds, Roles and responsibilities" in out
    assert _by_area(url, archive) == {"Drift and delay": 1, "Roles and responsibilities": 1, "Plans": 1}
