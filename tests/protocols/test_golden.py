"""Golden snapshots: every protocol and stage over a fixed grid of start times.

A rule change shows up as a reviewable diff of ``tests/protocols/snapshots/*.json``.
To accept an intended change, run the suite once with ``RESDESK_UPDATE_SNAPSHOTS=1``
and review the diff before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from resdesk.protocols import WorkingCalendar, cumulative_due, default_registry, due_after, parse_when

SNAPSHOTS = Path(__file__).with_name("snapshots")

# Weekends, Christmas to New Year 2026/27, Easter 2027 (with the clocks going forward on
# Sunday 28 March), and the early May bank holiday 2027.
GRID = [
    "2026-11-27T16:00",  # Friday afternoon
    "2026-11-28T10:00",  # Saturday
    "2026-11-29T18:30",  # Sunday evening
    "2026-12-23T10:00",
    "2026-12-24T17:00",
    "2026-12-25T09:00",  # Christmas Day
    "2026-12-28T12:00",  # Boxing Day substitute
    "2026-12-31T16:00",
    "2027-01-01T09:00",  # New Year's Day
    "2027-03-24T15:00",
    "2027-03-26T10:00",  # Good Friday
    "2027-03-27T12:00",  # the day before the clocks go forward
    "2027-03-29T09:00",  # Easter Monday
    "2027-04-30T14:00",
    "2027-05-03T09:00",  # Early May bank holiday
    "2027-05-04T08:00",
]


def compute(protocol) -> dict:
    calendar = WorkingCalendar(protocol.nation)
    table: dict[str, dict[str, dict]] = {}
    for stage in protocol.stages:
        rows = {}
        for text in GRID:
            start = parse_when(text)
            due = due_after(stage.timescale, start, calendar)
            cumulative = cumulative_due(stage, start, calendar)
            rows[start.isoformat()] = {
                "due": due.isoformat() if due else None,
                "basis": stage.timescale.basis,
                "cumulative_due_if_case_started_then": cumulative.isoformat() if cumulative else None,
            }
            if stage.deadlines:
                # Each of the stage's own deadlines, its day 0 being the grid time: the stage's start
                # (stage-start), the moment it was resolved (resolution), or the stage's due time (stage-due).
                rows[start.isoformat()]["deadlines"] = {
                    d.name: _deadline_due(d, start, due, calendar) for d in stage.deadlines
                }
        table[stage.label] = rows
    return table


def _deadline_due(deadline, start, stage_due, calendar) -> str | None:
    anchor = stage_due if deadline.counts_from == "stage-due" else start
    return due_after(deadline.timescale, anchor, calendar).isoformat() if anchor else None


@pytest.mark.parametrize("protocol", list(default_registry()), ids=lambda p: p.id)
def test_deadlines_match_snapshot(protocol):
    """GIVEN the grid of start times WHEN every stage's due time is computed THEN it equals the committed snapshot."""
    path = SNAPSHOTS / f"{protocol.id}.json"
    actual = compute(protocol)
    if os.environ.get("RESDESK_UPDATE_SNAPSHOTS") == "1":
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert actual == expected


def test_every_protocol_has_a_snapshot_and_no_stray_ones():
    """GIVEN the snapshots folder THEN it holds one file per registered protocol."""
    assert {p.stem for p in SNAPSHOTS.glob("*.json")} == set(default_registry().ids())


def test_snapshot_spot_checks_by_hand():
    """GIVEN the committed snapshots THEN entries worked out by hand from the calendar are there."""
    oldham = json.loads((SNAPSHOTS / "oldham.json").read_text())
    # Wed 23 Dec + 2 working days: Thu 24 (1), skip Fri 25, weekend, Mon 28 (substitute) -> Tue 29 (2).
    assert oldham["2"]["2026-12-23T10:00:00+00:00"]["due"] == "2026-12-29T23:59:59+00:00"
    # Oldham stage 4, 4 working days from Wed 24 Mar 2027: Thu 25, (Good Fri), (Easter Mon), Tue 30, Wed 31, Thu 1 Apr.
    assert oldham["4"]["2027-03-24T15:00:00+00:00"]["due"] == "2027-04-01T23:59:59+01:00"
    glos = json.loads((SNAPSHOTS / "gloucestershire.json").read_text())
    # 24 elapsed hours across the spring clock change: 12:00 GMT Saturday -> 13:00 BST Sunday.
    assert glos["1"]["2027-03-27T12:00:00+00:00"]["due"] == "2027-03-28T13:00:00+01:00"
    sandwell = json.loads((SNAPSHOTS / "sandwell.json").read_text())
    # Cumulative day 20 from Fri 30 Apr 2027 skips both May bank holidays (3 and 31 May): Tue 1 June.
    assert sandwell["4"]["2027-04-30T14:00:00+01:00"]["cumulative_due_if_case_started_then"] == "2027-06-01T23:59:59+01:00"
    # The stages' own deadlines, day 0 the grid time:
    # Sandwell stage 4, outcome and learning within one (calendar) month of Thu 31 Dec 2026: Sun 31 Jan 2027,
    # whatever the working days.
    assert sandwell["4"]["2026-12-31T16:00:00+00:00"]["deadlines"] == {"outcome-and-learning": "2027-01-31T23:59:59+00:00"}
    # Sandwell imminent risk, the same working day: from Sat 28 Nov, the next working day, Mon 30 Nov.
    assert sandwell["1"]["2026-11-28T10:00:00+00:00"]["deadlines"]["imminent-risk-referral"] == "2026-11-30T23:59:59+00:00"
    # Sandwell outcome letter, a further 2 working days from Wed 24 Mar 2027: Thu 25 (1), Good Friday,
    # weekend, Easter Monday, Tue 30 (2).
    assert sandwell["3"]["2027-03-24T15:00:00+00:00"]["deadlines"] == {"outcome-letter": "2027-03-30T23:59:59+01:00"}
    # Gloucestershire stage 3 from Wed 23 Dec: 5 working days = 24, 29, 30, 31 Dec, (1 Jan) Mon 4 Jan;
    # escalate to stage 4 no later than one working day after that: Tue 5 Jan.
    assert glos["3"]["2026-12-23T10:00:00+00:00"]["due"] == "2027-01-04T23:59:59+00:00"
    assert glos["3"]["2026-12-23T10:00:00+00:00"]["deadlines"] == {"escalate-to-stage-4": "2027-01-05T23:59:59+00:00"}
    lscp = json.loads((SNAPSHOTS / "lscp-lsab.json").read_text())
    # LSCP/LSAB step 4 urgent: no fixed time for the meeting; its date set within 24 elapsed hours.
    assert lscp["4 (urgent)"]["2026-11-27T16:00:00+00:00"] == {
        "due": None, "basis": "no fixed timescale", "cumulative_due_if_case_started_then": None,
        "deadlines": {"meeting-date-set": "2026-11-28T16:00:00+00:00"}}
