"""The deadlines a seed sets beside a stage's own timescale, end to end through the real watcher,
case file and tick into a pickup folder (England, December 2026: Fri 25 Christmas, Mon 28 the
Boxing Day substitute). Every expected date is worked by hand from the seed in the test; "day 0" is
the date of the event a deadline counts from (PRODUCT §4).
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess

import pytest

from resdesk.cli import main
from tests.scenarios.harness import BUSINESS_UNIT, Scenario, clock_rows, local, mail, to_whom

pytestmark = pytest.mark.e2e

BU = (BUSINESS_UNIT,)


def _subjects(sent) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((subject.strip(), to) for subject, to in to_whom(sent))


def _body(sent, subject: str, to: tuple[str, ...]) -> str:
    (found,) = [m for m in sent if m.subject.rsplit(" [", 1)[0].strip() == subject and m.to == to]
    return " ".join(found.message.get_body(("plain",)).get_content().split())


def _deadlines(case: dict, stage: int) -> list[tuple[str, str, str]]:
    (row,) = [c for c in case["clock"] if c["stage"] == stage]
    return [(d["name"], d["due"], d["status"]) for d in row["deadlines"]]


def test_sandwell_imminent_risk_the_same_working_day_then_resolved_at_stage_2_with_an_outcome_letter(tmp_path):
    """GIVEN Sandwell with the MASH contact configured WHEN a stage 1 summary arrives Sat 5 Dec stating
    imminent risk, and a stage 2 summary resolves the case Wed 9 Dec THEN the MARF/MASH referral is due
    the same working day (the next one, Mon 7 Dec), its notice goes to MASH at once and its overdue alert
    on Tue 8 Dec's working hours, after a reminder on the Monday; on resolution the parties are told the outcome letter is due within a
    further 2 working days (Fri 11 Dec)."""
    s = Scenario(tmp_path, "sandwell", contacts={"mash_service_manager": "mash@council.example"})
    first = mail(local(2026, 12, 5, 10, 0), "Escalation & Resolution Protocol: Stage 1 Summary",
                 ["Imminent risk: yes", "Outcome: actions agreed"],
                 sender="Rae Moss <rae.moss@school.example>", cc="Sam Lee <sam.lee@trust.example>", n=1)
    sent = s.run(local(2026, 12, 5, 10, 5), first)
    referral = "Imminent risk: MARF and MASH referral the same working day"
    assert _subjects(sent) == [
        (referral, ("mash@council.example",)),  # §4 Note
        ("RE: Escalation & Resolution Protocol: Stage 1 Summary", ("rae.moss@school.example",)),
    ]
    # §4 Note, 'on the same working day': Sat 5 Dec is not a working day, so the next one, Mon 7 Dec.
    assert "Due: Monday 7 December 2026" in _body(sent, referral, ("mash@council.example",))
    everyone = [BU, ("rae.moss@school.example",), ("sam.lee@trust.example",)]
    # Still due today: reminded on its day, in working hours, to the business unit and the agencies on the case.
    reminder = "Reminder at stage 1: a MARF completed and the case referred to MASH"
    sent = s.run(local(2026, 12, 7, 16, 0))
    assert _subjects(sent) == sorted((reminder, to) for to in everyone)
    assert "a MARF completed and the case referred to MASH is due Monday 7 December 2026" in _body(sent, reminder, BU)
    overdue = "Overdue at stage 1: a MARF completed and the case referred to MASH"
    # Not an hour-based deadline: its alert waits for the next working hours, Tue 8 Dec 09:00.
    assert s.run(local(2026, 12, 8, 8, 30)) == []
    assert _subjects(s.run(local(2026, 12, 8, 9, 5))) == sorted((overdue, to) for to in everyone)

    second = mail(local(2026, 12, 9, 11, 0), "Escalation & Resolution Protocol: Stage 2 Summary [SAN-2026-0001]",
                  ["Outcome: resolved"], sender="Rae Moss <rae.moss@school.example>", n=2)
    sent = s.run(local(2026, 12, 9, 11, 5), second)
    letter = "Outcome to be confirmed in writing: resolved at stage 2"
    assert _subjects(sent) == sorted(
        [("Multi-Agency Escalation of Safeguarding Concern Resolution template", BU),
         ("RE: Escalation & Resolution Protocol: Stage 2 Summary", ("rae.moss@school.example",))]
        + [(letter, to) for to in everyone])
    # Appendix 2 pathway: 'within a further 2 working days' of Wed 9 Dec: Thu 10 (1), Fri 11 (2).
    assert "Due: Friday 11 December 2026" in _body(sent, letter, ("sam.lee@trust.example",))
    case = s.case("SAN-2026-0001", local(2026, 12, 9, 11, 6))
    # Stage 1 from the estimated case start Sat 5 Dec 10:00 (no date raised): 3 working days = Wed 9 Dec,
    # ended Wed 9 Dec 11:00, counted from an estimate: met (estimated). Stage 2, 5 working days from Wed 9 Dec:
    # 10, 11, 14, 15, 16 -> Wed 16 Dec; cumulative 8 from Sat 5 Dec: 7, 8, 9, 10, 11, 14, 15, 16 -> Wed 16 Dec.
    assert clock_rows(case) == [
        (1, None, "2026-12-05 10:00", "2026-12-09 23:59", "2026-12-09 23:59", "met (estimated)"),
        (2, None, "2026-12-09 11:00", "2026-12-16 23:59", "2026-12-16 23:59", "met"),
    ]
    # The referral's time has passed with the stage over, and nothing in the case file says whether it was made.
    assert _deadlines(case, 1) == [("imminent-risk-referral", "2026-12-07T23:59:59+00:00", "not-recorded")]
    assert _deadlines(case, 2) == [("outcome-letter", "2026-12-11T23:59:59+00:00", "on-time")]


def test_sandwell_outcome_letter_reminded_and_alerted_after_the_resolution_until_recorded_sent(tmp_path):
    """GIVEN Sandwell cases resolved at stage 2 on Wed 9 Dec, the outcome letter due within a further 2
    working days (Fri 11 Dec) WHEN the tick runs on Thu 10 Dec THEN nothing goes; on Fri 11 Dec THEN the
    letter's reminder goes to the business unit and both agencies; on Mon 14 Dec (after the weekend) the
    overdue alert goes for the case whose letter nobody recorded; WHEN the business unit records the other
    case's letter sent on the Friday (``resdesk act deadline-met``) THEN that case gets no alert, and its
    clock and auditor record read the letter met."""
    s = Scenario(tmp_path, "sandwell")
    for n, ref in ((1, "SAN-2026-0001"), (3, "SAN-2026-0002")):
        opened = mail(local(2026, 12, 7, 10, 0), "Escalation & Resolution Protocol: Stage 1 Summary",
                      ["Outcome: escalated"], sender="Rae Moss <rae.moss@school.example>",
                      cc="Sam Lee <sam.lee@trust.example>", n=n)
        resolved = mail(local(2026, 12, 9, 11, 0), f"Escalation & Resolution Protocol: Stage 2 Summary [{ref}]",
                        ["Outcome: resolved"], sender="Rae Moss <rae.moss@school.example>", n=n + 1)
        s.run(local(2026, 12, 7, 10, 5), opened)
        s.run(local(2026, 12, 9, 11, 5), resolved)
    everyone = [BU, ("rae.moss@school.example",), ("sam.lee@trust.example",)]
    what = "the receiving agency's letter to the complainant agency confirming the outcome"
    assert s.run(local(2026, 12, 10, 16, 0)) == []
    reminded = s.run(local(2026, 12, 11, 9, 5))
    assert _subjects(reminded) == sorted((f"Reminder after the resolution: {what}", to) for to in everyone * 2)
    first_case = [m for m in reminded if "[SAN-2026-0001" in m.subject]
    body = _body(first_case, f"Reminder after the resolution: {what}", BU)
    assert f"{what} is due Friday 11 December 2026 at 23:59 (2 working days)" in body

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["act", "deadline-met", "SAN-2026-0002", "outcome-letter", "--done", "2026-12-11T15:00",
                       "--reason", "the trust's letter was copied to us", "--as", "Pat Jones",
                       "--now", "2026-12-11T16:00", "--config", str(s.config)])
    assert status == 0
    assert s.run(local(2026, 12, 12, 10, 0)) == []
    alerted = s.run(local(2026, 12, 14, 9, 5))
    assert _subjects(alerted) == sorted((f"Overdue after the resolution: {what}", to) for to in everyone)
    assert all("[SAN-2026-0001-" in m.subject for m in alerted)
    assert _deadlines(s.case("SAN-2026-0001", local(2026, 12, 14, 9, 6)), 2) == [
        ("outcome-letter", "2026-12-11T23:59:59+00:00", "not-recorded")]
    case = s.case("SAN-2026-0002", local(2026, 12, 14, 9, 6))
    assert _deadlines(case, 2) == [("outcome-letter", "2026-12-11T23:59:59+00:00", "met")]
    record = tmp_path / "record.pdf"
    assert main(["case", "SAN-2026-0002", "--pdf", str(record), "--now", "2026-12-14T09:10",
                 "--config", str(s.config)]) == 0
    text = " ".join(subprocess.run(["pdftotext", str(record), "-"], check=True, capture_output=True,
                                   text=True).stdout.split())
    # The record's table of deadlines: the letter due Fri 11 Dec, met at 15:00 that day.
    assert "2:thereceivingagency'slettertothecomplainantagencyconfirmingtheoutcome2workingdaysfromtheresolution" \
           "11/12/202623:5911/12/202615:00met" in text.replace(" ", "")  # pdftotext breaks the narrow columns
    assert ("Recorded done (met): the receiving agency's letter to the complainant agency confirming the outcome, "
            "by Pat Jones: the trust's letter was copied to us") in text


def test_sandwell_outcome_and_learning_within_one_calendar_month_of_the_stage_4_meeting(tmp_path):
    """GIVEN Sandwell WHEN a case first heard of at a stage 3 summary (escalated) Wed 9 Dec is resolved by
    the SCSP Chair on Thu 31 Dec THEN the outcome goes to every party with the outcome and learning due
    within one calendar month: Sun 31 Jan 2027 (a calendar month, not working days, whatever the day)."""
    s = Scenario(tmp_path, "sandwell")
    first = mail(local(2026, 12, 9, 10, 0), "Escalation & Resolution Protocol: Stage 3 Summary",
                 ["Date raised: 16/11/2026", "Outcome: escalated"], sender="Rae Moss <rae.moss@school.example>", n=1)
    s.run(local(2026, 12, 9, 10, 5), first)
    second = mail(local(2026, 12, 31, 10, 0), "Escalation & Resolution Protocol: Stage 4 Summary [SAN-2026-0001]",
                  ["Outcome: resolved"], sender="Rae Moss <rae.moss@school.example>", n=2)
    sent = s.run(local(2026, 12, 31, 10, 5), second)
    outcome = "Outcome of the escalation, resolved at stage 4"
    assert [item for item in _subjects(sent) if item[0] == outcome] == [
        (outcome, BU), (outcome, ("rae.moss@school.example",))]
    body = _body(sent, outcome, ("rae.moss@school.example",))
    assert "Due: Sunday 31 January 2027" in body and "1 calendar month" in body
    case = s.case("SAN-2026-0001", local(2026, 12, 31, 10, 6))
    assert _deadlines(case, 4) == [("outcome-and-learning", "2027-01-31T23:59:59+00:00", "on-time")]
    assert case["next_action"] == (
        "None: resolved on 31 December 2026. Also: the outcome and any learning disseminated to all parties "
        "by Sun 31 Jan 2027 23:59 (1 calendar month).")


def test_gloucestershire_escalates_to_stage_4_no_later_than_one_working_day(tmp_path):
    """GIVEN Gloucestershire WHEN a stage 2 summary escalates Wed 2 Dec and the stage 3 summary escalates
    only on Fri 11 Dec THEN stage 3 is due Wed 9 Dec, the escalation to stage 4 no later than one working
    day after (Thu 10 Dec): it is reminded on Thu 10 Dec, its overdue alert goes on Fri 11 Dec's working hours, and once stage 4 is entered
    that day the deadline reads missed."""
    s = Scenario(tmp_path, "gloucestershire")
    first = mail(local(2026, 12, 2, 10, 0), "GSCP Escalation Protocol: Stage 2 summary", ["Outcome: escalated"],
                 sender="Ann Cole <ann.cole@nhs.example>", n=1)
    s.run(local(2026, 12, 2, 10, 5), first)
    escalate = "Overdue at stage 3: escalation to stage four, with a full account of the history of dispute and resolution attempts"
    everyone = [BU, ("ann.cole@nhs.example",)]
    # Stage Three, five working days from Wed 2 Dec: 3, 4, 7, 8, 9 -> Wed 9 Dec; then no later than one
    # working day: Thu 10 Dec. On Thu 10 Dec the stage's own overdue alert goes, and the escalation, due that
    # day, is reminded.
    remind = "Reminder at stage 3: escalation to stage four, with a full account of the history of dispute and resolution attempts"
    assert _subjects(s.run(local(2026, 12, 10, 9, 5))) == sorted(
        [("Overdue: stage 3", to) for to in everyone] + [(remind, to) for to in everyone])
    assert _subjects(s.run(local(2026, 12, 11, 9, 5))) == sorted((escalate, to) for to in everyone)
    second = mail(local(2026, 12, 11, 10, 0), "GSCP Escalation Protocol: Stage 3 summary [GLO-2026-0001]",
                  ["Outcome: escalated"], sender="Ann Cole <ann.cole@nhs.example>", n=2)
    s.run(local(2026, 12, 11, 10, 5), second)
    case = s.case("GLO-2026-0001", local(2026, 12, 11, 10, 6))
    assert _deadlines(case, 3) == [("escalate-to-stage-4", "2026-12-10T23:59:59+00:00", "missed")]
    assert clock_rows(case)[-2:] == [
        (3, None, "2026-12-02 10:00", "2026-12-09 23:59", None, "missed"),
        (4, None, "2026-12-11 10:00", None, None, "no-fixed-timescale"),
    ]


def test_haringey_conference_request_after_stage_1_and_one_the_case_moved_past_is_superseded(tmp_path):
    """GIVEN Haringey with children's social care configured WHEN one case's stage 1 summary escalates
    stating 'Conference requested: yes' THEN the request goes to children's social care on entry to
    stage 2 (§6: after stage 1); WHEN another case, resolved at stage 2, has the request set by a person
    afterwards THEN that request is superseded, not sent, and shows so in the case's outbound list."""
    s = Scenario(tmp_path, "haringey", contacts={"childrens_social_care": "csc@council.example"})
    request = "Request for a child protection conference after stage 1"
    first = mail(local(2026, 12, 7, 10, 0), "Escalation & Resolution Protocol: Stage 1 Summary",
                 ["Conference requested: yes", "Outcome: escalated"], sender="Fay Kerr <fay.kerr@nhs.example>", n=1)
    assert _subjects(s.run(local(2026, 12, 7, 10, 5), first)) == [
        ("RE: Escalation & Resolution Protocol: Stage 1 Summary", ("fay.kerr@nhs.example",)),
        (request, ("csc@council.example",)),
    ]
    second = mail(local(2026, 12, 7, 11, 0), "Escalation & Resolution Protocol: Stage 1 Summary",
                  ["Outcome: escalated"], sender="Gus Hart <gus.hart@police.example>", n=2)
    third = mail(local(2026, 12, 9, 11, 0), "Escalation & Resolution Protocol: Stage 2 Summary [HAR-2026-0002]",
                 ["Outcome: resolved"], sender="Gus Hart <gus.hart@police.example>", n=3)
    s.run(local(2026, 12, 7, 11, 5), second)
    s.run(local(2026, 12, 9, 11, 5), third)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["case", "HAR-2026-0002", "--config", str(s.config), "--set", "conference-requested=yes",
                       "--by", "Pat Jones", "--reason", "the police asked for a conference on 7 Dec",
                       "--now", "2026-12-10T10:00", "--json"])
    assert status == 0 and json.loads(out.getvalue())["facts"]["conference-requested"]["value"] is True
    assert s.run(local(2026, 12, 10, 10, 1)) == []
    case = s.case("HAR-2026-0002", local(2026, 12, 10, 10, 2))
    (superseded,) = [o for o in case["outbound"] if o["state"] == "superseded"]
    assert (superseded["subject"], superseded["recipients"], superseded["sent_at"]) == (
        request, ["csc@council.example"], None)
    assert "moved past stage 2 (the resolution recorded Wed 09 Dec 2026 11:00)" in superseded["reason"]
    assert "outbound-superseded" in [a["action"] for a in case["audit"]]
