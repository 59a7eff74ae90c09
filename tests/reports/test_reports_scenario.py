"""Each return's figures over a case file built by the real watcher from two quarters of dated mail.

The scenario is in ``tests/reports/scenario.py`` (a table of every case and its mail); the
expected counts below are worked out by hand from that table and the protocols' timescales
(Oldham: stages 1–3 two working days, stage 4 four; Gloucestershire: stage 1 24 hours, stages 2
and 4 no fixed timescale, stage 3 five working days; Sandwell: stage 1 three working days, stage 2
five). The figures are checked on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from resdesk.cases import open_store
from resdesk.reports import SANDWELL_LOG_COLUMNS, build_report, parse_period
from tests.reports.scenario import (
    CONSTABULARY, GLOS_CSC, GMP, OAKFIELD, OLDHAM_CSC, REGISTRY, build_case_file,
)

NOW = datetime(2027, 1, 15, 12, 0, tzinfo=timezone.utc)
Q3, Q4, NOVEMBER = parse_period("2026Q3"), parse_period("2026Q4"), parse_period("2026-11")
SEEDS = Path(__file__).resolve().parents[2] / "protocols" / "seeds"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def casefile(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"reports-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'resdesk.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    store = open_store(url, root / "archive")
    refs = build_case_file(store, root)
    yield store, refs
    store.close()


def _report(casefile, kind: str, period=Q4, **kwargs):
    store, _ = casefile
    return build_report(kind, store, period, REGISTRY, NOW, **kwargs)


def test_activity_figures_for_the_fourth_quarter(casefile):
    """GIVEN the scenario's case file WHEN the Q4 activity report is built THEN its figures are:
    opened O2, O3, O4, G1, G2, G3, S1, S2 (8; O0, O1 and G0 opened in September);
    resolved O1 (6 Oct), O3 (3 Nov), S1 (16 Oct) = 3; open at 31 Dec: O2, O4, G0–G3, S2 = 7;
    days to resolution 28 (O1: 8 Sep → 6 Oct), 0 (O3) and 9 (S1): mean 37/3 = 12.3, longest 28."""
    report = _report(casefile, "activity")
    assert report.figure("Cases opened") == 8
    assert report.figure("Cases resolved") == 3
    assert report.figure("Cases open at the end of the period") == 7
    assert report.figure("Mean days from start to resolution") == 12.3
    assert report.figure("Longest days from start to resolution") == 28.0


def test_activity_stages_met_missed_and_running(casefile):
    """GIVEN the scenario WHEN Q4's stages are judged against their due times THEN
    met 11: O2 s1, s2 (due Wed 7 Oct, left 7 Oct), O3 s1, O4 s1, s2 (due 18 Nov, left 17 Nov),
    G1 s1 (24 h), G1 s3 (due 11 Nov, left 9 Nov), G2 s1, G3 s1, S1 s1, S2 s1;
    missed 5: O1 s3 (due 14 Sep, left 6 Oct), O2 s3 (due 9 Oct, left 2 Nov), G2 s3 (due 19 Nov,
    left 20 Nov), G3 s3 (due 20 Nov, left 25 Nov), S1 s2 (due 14 Oct, left 16 Oct);
    running at 31 Dec 3, all overdue: O2 s4 (due 6 Nov), O4 s3 (due 19 Nov), S2 s2 (due 26 Oct);
    no fixed timescale 7: Gloucestershire stages 2 of G1–G3 and 4 of G0–G3;
    share overdue (5 missed + 3 overdue) / 19 timed = 42%."""
    report = _report(casefile, "activity")
    assert (report.figure("Stages met"), report.figure("Stages missed"), report.figure("Stages still running")) == (11, 5, 3)
    assert report.figure("Stages still running and overdue") == 3
    assert report.figure("Stages with no fixed timescale") == 7
    assert report.figure("Share of stages overdue") == "42%"
    by_stage = {row[0]: row[1:] for row in report.tables[1].rows}
    assert by_stage == {
        "Stage 1": (8, 0, 0, 0),
        "Stage 2": (2, 1, 1, 3),
        "Stage 3": (1, 4, 1, 0),
        "Stage 4": (0, 0, 1, 4),
    }


def test_activity_by_highest_stage_area_and_agency_pair(casefile):
    """GIVEN the scenario WHEN Q4's cases opened are grouped THEN highest stage: O3 at 1; S1, S2 at 2;
    O4 at 3; O2, G1, G2, G3 at 4. Areas: thresholds O2, S2 (S2 wrote "Threshold", O2
    "thresholds/eligibility"); information sharing O3, G3 ("Sharing of information"); plans G1, G2;
    drift and delay O4 ("Drift & delay"); provision of services S1. Pairs: the Constabulary and
    Gloucestershire's social care twice (G1, G2), every other pair once."""
    tables = {t.title: t for t in _report(casefile, "activity").tables}
    assert dict(tables["Highest stage reached by cases opened in the period"].rows) == {
        "Stage 1": 1, "Stage 2": 2, "Stage 3": 1, "Stage 4": 4,
    }
    assert dict(tables["Cases opened by area of disagreement"].rows) == {
        "Thresholds": 2, "Information sharing": 2, "Plans": 2, "Drift and delay": 1, "Provision of services": 1,
    }
    pairs = {(a, b): n for a, b, n in tables["Cases opened by agency pair"].rows}
    assert pairs[(CONSTABULARY, GLOS_CSC)] == 2
    assert pairs[(GMP, OLDHAM_CSC)] == 1
    assert sum(pairs.values()) == 8 and len(pairs) == 7


def test_activity_export_has_one_row_per_case_opened(casefile):
    """GIVEN the scenario WHEN the Q4 activity export is built THEN it has the required columns and one
    row per case opened, oldest first, with its stages missed (O2 1, S1 1, G2 1, G3 1, others 0)."""
    _, refs = casefile
    export = _report(casefile, "activity").export
    assert export.columns[:10] == (
        "ref", "protocol", "opened", "highest_stage", "status", "resolved",
        "area_of_disagreement", "raising_agency", "responding_agency", "stages_missed",
    )
    rows = {row[0]: dict(zip(export.columns, row)) for row in export.rows}
    assert [row[0] for row in export.rows] == [refs[n] for n in ("O2", "S1", "S2", "G1", "O3", "G2", "G3", "O4")]
    assert {name: rows[refs[name]]["stages_missed"] for name in ("O2", "S1", "S2", "G1", "O3", "G2", "G3", "O4")} == {
        "O2": 1, "S1": 1, "S2": 0, "G1": 0, "O3": 0, "G2": 1, "G3": 1, "O4": 0,
    }
    s1 = rows[refs["S1"]]
    assert (s1["status"], s1["resolved"][:10], s1["highest_stage"]) == ("resolved", "2026-10-16", 2)
    assert (s1["area_of_disagreement"], s1["raising_agency"]) == ("provision-of-services", OAKFIELD)


def test_the_third_quarter_and_a_month_count_only_their_own(casefile):
    """GIVEN the scenario WHEN Q3 and November are reported THEN Q3 opened O0, O1, G0 (3), resolved
    O0 (1), left O1 and G0 open; November opened G1, O3, G2, G3, O4 (5) and resolved O3 (1)."""
    q3 = _report(casefile, "activity", Q3)
    assert (q3.figure("Cases opened"), q3.figure("Cases resolved"), q3.figure("Cases open at the end of the period")) == (3, 1, 2)
    november = _report(casefile, "activity", NOVEMBER)
    assert (november.figure("Cases opened"), november.figure("Cases resolved")) == (5, 1)
    assert sum(november.charts[0].series["opened"]) == 5


def test_oldham_quarterly_themes(casefile):
    """GIVEN the scenario WHEN Oldham's Q4 themes return is built (§1.6: stage 3 and 4 escalations)
    THEN O2 (stage 3 on 7 Oct, stage 4 on 2 Nov) counts under thresholds and O4 (stage 3 on 17 Nov)
    under drift and delay; O1 reached stage 3 in September, so it counts in Q3's return only."""
    _, refs = casefile
    q4 = _report(casefile, "oldham-themes")
    assert {row[0]: row[1:3] for row in q4.export.rows} == {"thresholds": (1, 1), "drift-and-delay": (1, 0)}
    assert q4.figure("Escalations at stage 3 or 4") == 2
    assert q4.figure("Escalations progressing to stage 4") == 1
    q3 = _report(casefile, "oldham-themes", Q3)
    assert [(row[0], row[1], row[3]) for row in q3.export.rows] == [("thresholds", 1, refs["O1"])]


def test_gloucestershire_strategic_log_marks_recurring_themes(casefile):
    """GIVEN the scenario WHEN Gloucestershire's Q4 strategic log is built THEN the stage 4 escalations
    G1 and G2 share plans (recurring: yes) and G3 alone has information sharing (no); G0 reached
    stage 4 in September and is in Q3's log."""
    _, refs = casefile
    q4 = _report(casefile, "gloucestershire-strategic-log")
    assert [row[:3] for row in q4.export.rows] == [("plans", 2, "yes"), ("information-sharing", 1, "no")]
    assert q4.export.rows[0][3] == f"{refs['G1']} {refs['G2']}"
    assert (q4.figure("Stage 4 escalations"), q4.figure("Recurring themes")) == (3, 1)
    q3 = _report(casefile, "gloucestershire-strategic-log", Q3)
    assert [row[:3] for row in q3.export.rows] == [("plans", 1, "no")]


def test_sandwell_summary_log_in_the_seeds_columns(casefile):
    """GIVEN the scenario WHEN Sandwell's Q4 Appendix 4 log is built THEN its columns are the seed's
    headings in the seed's order, S1's row carries the child, level of need and disagreement from the
    typed Appendix 3 template, and S2's row leaves blank what the case file does not hold."""
    _, refs = casefile
    report = _report(casefile, "sandwell-summary-log")
    assert report.export.columns == SANDWELL_LOG_COLUMNS
    rows = {row[0]: row for row in report.export.rows}
    assert list(rows) == [refs["S1"], refs["S2"]]
    s1 = rows[refs["S1"]]
    assert s1[1] == "Name: Amira Okafor\nDOB: 09/03/2014\nAge: 12"
    assert s1[2:5] == ("Provision of services", "Child in Need (S17)",
                       "School considers the speech and language referral was closed without a service.")
    assert s1[5].startswith("Escalated to stage 2") and s1[6].startswith("Resolved on 16/10/2026")
    s2 = rows[refs["S2"]]
    assert s2[1:5] == ("Name:\nDOB:\nAge:", "Thresholds", "", "")
    assert s2[6].startswith("Not yet resolved")
    one_agency = _report(casefile, "sandwell-summary-log", agency="oakfield primary school")
    assert [row[0] for row in one_agency.export.rows] == [refs["S1"]]


def test_the_log_columns_are_the_seeds_own_headings():
    """GIVEN Sandwell's Appendix 4 as published WHEN its table's heading row is read THEN it is the log's
    columns, word for word and in order."""
    text = (SEEDS / "sandwell.txt").read_text(encoding="utf-8")
    log = " ".join(text[text.index("AGENCY ESCALATION SUMMARY LOG"):].split())
    assert " ".join(" ".join(SANDWELL_LOG_COLUMNS).split()) in log
