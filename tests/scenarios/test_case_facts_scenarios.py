"""Each protocol end to end: mail into a Maildir, the real watcher, the case file, case facts and the
tick into a pickup folder, dated across weekends and bank holidays (England).

Every expected date is worked by hand from the seed in the test. "Day 0" is the date of the event;
a deadline of N working days falls at 23:59:59 on the N-th working day after it (PRODUCT §4).
December 2026: Fri 25 (Christmas) and Mon 28 (Boxing Day, substitute) are bank holidays.
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from resdesk.cli import main
from tests.scenarios.harness import BUSINESS_UNIT, Scenario, clock_rows, local, mail, to_whom

pytestmark = pytest.mark.e2e

BU = (BUSINESS_UNIT,)


def _subjects(sent) -> list[tuple[str, tuple[str, ...]]]:
    return [(subject.strip(), to) for subject, to in to_whom(sent)]


def test_sandwell_child_on_a_plan_childrens_trust_case_reaching_stage_3(tmp_path):
    """GIVEN Sandwell with the IRO, the Director for Quality and Review and the service director
    configured WHEN a stage 1 summary arrives Mon 30 Nov saying the line manager was made aware Mon 23 Nov,
    the child is on a plan and the Children's Trust is involved, escalated; then a stage 2 summary Fri 4 Dec,
    escalated THEN the targets count from 23 Nov, the IRO contact is mailed at stage 1, the Director
    before stage 3, the template goes to the business unit (not the SCSP address in the protocol file)
    and to the service director at stage 3, and stage 1 is missed, not met."""
    s = Scenario(tmp_path, "sandwell", contacts={
        "iro": "iro.team@trust.example", "director_quality_review": "dqr@trust.example",
        "service_director": "service.director@school.example",
    })
    first = mail(local(2026, 11, 30, 10, 0), "Escalation & Resolution Protocol: Stage 1 Summary",
                 ["Date raised: 23/11/2026", "Child protection plan or looked after: yes",
                  "Children's Trust involved: yes", "Outcome: escalated"],
                 sender="Rae Moss <rae.moss@school.example>", cc="Sam Lee <sam.lee@trust.example>", n=1)
    assert _subjects(s.run(local(2026, 11, 30, 10, 5), first)) == [
        ("Multi-Agency Escalation of Safeguarding Concern Resolution template", BU),  # stage 2 entry
        ("Notice to the Independent Reviewing Officer", ("iro.team@trust.example",)),  # §7 Stage 1, on a plan
        ("RE: Escalation & Resolution Protocol: Stage 1 Summary", ("rae.moss@school.example",)),
    ]
    second = mail(local(2026, 12, 4, 14, 0), "Escalation & Resolution Protocol: Stage 2 Summary [SAN-2026-0001]",
                  ["Outcome: escalated"], sender="Rae Moss <rae.moss@school.example>", n=2)
    assert _subjects(s.run(local(2026, 12, 4, 14, 5), second)) == [
        ("Multi-Agency Escalation of Safeguarding Concern Resolution template", BU),  # §7 Stage 3
        ("Multi-Agency Escalation of Safeguarding Concern Resolution template", ("service.director@school.example",)),
        ("Notification of escalation at stage 3", BU),  # senior SCSP representative: no contact, for their attention
        ("Notification to the Director: escalation at stage 3", ("dqr@trust.example",)),  # §7 Stage 2 NB
        ("RE: Escalation & Resolution Protocol: Stage 2 Summary", ("rae.moss@school.example",)),
    ]
    case = s.case("SAN-2026-0001", local(2026, 12, 4, 14, 10))
    assert {name: (f["value"], f["source"]) for name, f in case["facts"].items()} == {
        "case_start": ("2026-11-23T00:00:00+00:00", "message"),
        "child-protection-plan-or-looked-after": (True, "message"),
        "childrens-trust-involved": (True, "message"),
        "agencies": (["Children's Trust", "Education"], "message"),  # by sender and Cc domains
    }
    assert case["needs_facts"] == []
    # Appendix 1: 3 days / cumulative 3, 8, 13, 20 from Mon 23 Nov (day 0):
    # +3 = Thu 26 Nov; +8 = Thu 3 Dec; +13 = Thu 10 Dec. Stage 1 runs from the case start (its trigger),
    # ends Mon 30 Nov: missed. Stage 2 (5 working days from Mon 30 Nov) = Mon 7 Dec, ended Fri 4 Dec: met,
    # but past its cumulative day 8 (Thu 3 Dec). Stage 3 from Fri 4 Dec 14:00 + 5 = Fri 11 Dec.
    assert clock_rows(case) == [
        (1, None, "2026-11-23 00:00", "2026-11-26 23:59", "2026-11-26 23:59", "missed"),
        (2, None, "2026-11-30 10:00", "2026-12-07 23:59", "2026-12-03 23:59", "met"),
        (3, None, "2026-12-04 14:00", "2026-12-11 23:59", "2026-12-10 23:59", "on-time"),
    ]
    assert [c["cumulative_status"] for c in case["clock"]] == ["missed", "missed", "on-time"]


def test_gloucestershire_threshold_dispute_entered_on_a_friday_at_1730(tmp_path):
    """GIVEN Gloucestershire with the MASH service manager configured WHEN a stage 1 summary arrives
    Fri 4 Dec 17:30 stating a threshold dispute, and on Mon 7 Dec a stage 1 summary escalates
    THEN stage 1's 24 hours end Sat 5 Dec 17:30: its reminder goes at once (Friday's working hours are
    over) and its overdue alert at 17:30 on the Saturday, to the business unit and both agencies;
    the MASH service manager is mailed on entry to stage 2; stage 2 (no fixed timescale) is reviewed
    after 5 working days; the estimated case start is listed as needed."""
    s = Scenario(tmp_path, "gloucestershire", contacts={"mash_service_manager": "mash.sm@council.example"})
    first = mail(local(2026, 12, 4, 17, 30), "GSCP Escalation Protocol: Stage One summary",
                 ["Threshold dispute: yes", "Outcome: actions agreed"],
                 sender="Ann Cole <ann.cole@nhs.example>", cc="Ben Ray <ben.ray@police.example>", n=1)
    everyone = [BU, ("ann.cole@nhs.example",), ("ben.ray@police.example",)]
    sent = _subjects(s.run(local(2026, 12, 4, 17, 31), first))
    assert sent == sorted([("RE: GSCP Escalation Protocol: Stage One summary", ("ann.cole@nhs.example",))]
                          + [("Reminder: stage 1 due", to) for to in everyone])
    assert s.run(local(2026, 12, 5, 17, 29)) == []  # a minute before the deadline: nothing new
    assert _subjects(s.run(local(2026, 12, 5, 17, 31))) == sorted(("Overdue: stage 1", to) for to in everyone)
    second = mail(local(2026, 12, 7, 10, 0), "GSCP Escalation Protocol: Stage 1 summary [GLO-2026-0001]",
                  ["Outcome: escalated"], sender="Ann Cole <ann.cole@nhs.example>", n=2)
    assert _subjects(s.run(local(2026, 12, 7, 10, 5), second)) == [
        ("RE: GSCP Escalation Protocol: Stage 1 summary", ("ann.cole@nhs.example",)),
        ("Service Manager MASH involvement requested at stage 2", ("mash.sm@council.example",)),
    ]
    # Review every 5 working days from Mon 7 Dec: Mon 14 Dec (not Fri 11 Dec).
    assert s.run(local(2026, 12, 11, 10, 0)) == []
    assert _subjects(s.run(local(2026, 12, 14, 10, 0))) == sorted(
        ("Review: stage 2 is still running", to) for to in everyone)
    case = s.case("GLO-2026-0001", local(2026, 12, 14, 10, 1))
    assert case["facts"]["threshold-dispute"]["value"] is True
    assert case["facts"]["case_start"]["estimated"] is True and case["needs_facts"] == ["case_start"]
    assert clock_rows(case) == [
        (1, None, "2026-12-04 17:30", "2026-12-05 17:30", None, "missed"),
        (2, None, "2026-12-07 10:00", None, None, "no-fixed-timescale"),
    ]


def test_lscp_lsab_non_urgent_step_4_then_corrected_to_urgent(tmp_path):
    """GIVEN LSCP/LSAB with the review group and SLOs configured WHEN a case is first heard of at a
    step 3 summary (escalated, 'Urgent: no', 'Lessons learned: yes') THEN steps 1 and 2 are
    not-recorded, step 3 (begun and ended in that one summary) is met (estimated), step 4 is non-urgent
    and referred to the review group; WHEN a person then sets urgent=yes THEN step 4 becomes urgent at
    once: the meeting ASAP (no fixed time), its date set within 24 hours; the next tick sends the
    independent chair's referral (for their attention, via the business unit) and the lessons-learned
    referral, and the date-setting deadline is reminded from 09:00 on its day and gets its overdue alert at the
    24th hour."""
    s = Scenario(tmp_path, "lscp-lsab", contacts={"review_group": "review.group@lscp.example", "slo": "slo@lscp.example"})
    first = mail(local(2026, 11, 24, 11, 0), "Escalation to Resolution: Step 3 summary",
                 ["Urgent: no", "Lessons learned: yes", "Outcome: escalated"],
                 sender="Cat Hill <cat.hill@police.example>", n=1)
    assert _subjects(s.run(local(2026, 11, 24, 11, 5), first)) == [
        ("Notification of escalation at stage 3", ("slo@lscp.example",)),
        ("RE: Escalation to Resolution: Step 3 summary", ("cat.hill@police.example",)),
        ("Stage 4 escalation: full account of the dispute and resolution attempts", ("review.group@lscp.example",)),
    ]
    case = s.case("LSC-2026-0001", local(2026, 11, 24, 11, 6))
    assert clock_rows(case) == [
        (1, None, None, None, None, "not-recorded"),
        (2, None, None, None, None, "not-recorded"),
        # Step 3 is first heard of in the summary that ends it: its start is the mail's time, an estimate,
        # so "met" is an estimate too.
        (3, None, "2026-11-24 11:00", "2026-11-26 23:59", None, "met (estimated)"),
        (4, "non-urgent", "2026-11-24 11:00", None, None, "no-fixed-timescale"),
    ]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["case", "LSC-2026-0001", "--config", str(s.config), "--set", "urgent=yes", "--by", "Pat Jones",
                       "--reason", "the SLOs say the risk is now immediate", "--now", "2026-11-24T15:00", "--json"])
    corrected = json.loads(out.getvalue())
    assert status == 0
    assert {k: corrected["facts"]["urgent"][k] for k in ("value", "source", "set_by")} == {
        "value": True, "source": "person", "set_by": "Pat Jones"}
    # Step 4 urgent: 'The meeting should take place ASAP with a date set within 24 hours of step 3': the step
    # has no fixed time; the date is due set by 24 elapsed hours from Tue 24 Nov 11:00 = Wed 25 Nov 11:00.
    assert clock_rows(corrected)[-1] == (4, "urgent", "2026-11-24 11:00", None, None, "no-fixed-timescale")
    assert [(d["name"], d["due"], d["status"]) for d in corrected["clock"][-1]["deadlines"]] == [
        ("meeting-date-set", "2026-11-25T11:00:00+00:00", "on-time")]
    assert [e["kind"] for e in corrected["events"]].count("fact-set") >= 3
    assert _subjects(s.run(local(2026, 11, 24, 15, 1))) == [
        ("Referral for lessons learned from the escalation at stage 4", ("review.group@lscp.example",)),
        ("Referral to the Chair at stage 4", BU),
    ]
    assert s.run(local(2026, 11, 25, 8, 59)) == []
    # Reminded from the start of the last working hours before it (Wed 25 Nov 09:00), whatever the hour.
    reminder = "Reminder at stage 4: the date of the independently chaired meeting set"
    assert _subjects(s.run(local(2026, 11, 25, 10, 59))) == [(reminder, BU), (reminder, ("cat.hill@police.example",))]
    overdue = "Overdue at stage 4: the date of the independently chaired meeting set"
    assert _subjects(s.run(local(2026, 11, 25, 11, 1))) == [(overdue, BU), (overdue, ("cat.hill@police.example",))]


def test_oldham_first_heard_of_at_stage_2_resolved_at_stage_4(tmp_path):
    """GIVEN Oldham with no contacts WHEN a stage 2 summary (escalated) arrives Wed 2 Dec stating the
    disagreement of Tue 24 Nov and stage 2's start on Mon 30 Nov, a stage 3 summary escalates Fri 4 Dec
    and a stage 4 summary resolves it Wed 9 Dec THEN stages 0 and 1 are not-recorded, the targets count
    from 24 Nov, OSCP's notices go to the configured business unit (never the address in the protocol
    file), and the outcome goes to every involved party (§4 stage 4)."""
    s = Scenario(tmp_path, "oldham")
    first = mail(local(2026, 12, 2, 10, 0), "Escalation & Resolution Protocol: Stage 2 Summary",
                 ["Date of disagreement: 24/11/2026", "Stage 2 started: 30/11/2026", "Outcome: escalated"],
                 sender="Dev Patel <dev.patel@school.example>", cc="Eve Long <eve.long@police.example>", n=1)
    assert _subjects(s.run(local(2026, 12, 2, 10, 5), first)) == [
        ("Notification of Escalation progressing to stage 3", BU),
        ("RE: Escalation & Resolution Protocol: Stage 2 Summary", ("dev.patel@school.example",)),
    ]
    second = mail(local(2026, 12, 4, 15, 0), "Escalation & Resolution Protocol: Stage 3 Summary [OLD-2026-0001]",
                  ["Outcome: escalated"], sender="Dev Patel <dev.patel@school.example>", n=2)
    assert _subjects(s.run(local(2026, 12, 4, 15, 5), second)) == [
        ("RE: Escalation & Resolution Protocol: Stage 3 Summary", ("dev.patel@school.example",)),
        ("Resolution Notice", BU),
    ]
    third = mail(local(2026, 12, 9, 11, 0), "Escalation & Resolution Protocol: Stage 4 Summary [OLD-2026-0001]",
                 ["Outcome: resolved"], sender="Eve Long <eve.long@police.example>", n=3)
    assert _subjects(s.run(local(2026, 12, 9, 11, 5), third)) == [
        ("Outcome of the escalation, resolved at stage 4", BU),
        ("Outcome of the escalation, resolved at stage 4", ("dev.patel@school.example",)),
        ("Outcome of the escalation, resolved at stage 4", ("eve.long@police.example",)),
        ("RE: Escalation & Resolution Protocol: Stage 4 Summary", ("eve.long@police.example",)),
    ]
    case = s.case("OLD-2026-0001", local(2026, 12, 9, 11, 6))
    assert case["status"] == "resolved" and case["needs_facts"] == []
    # §4 cumulative 9, 11, 15 working days from Tue 24 Nov: 9 = Mon 7 Dec, 11 = Wed 9 Dec, 15 = Tue 15 Dec.
    # Stage 2: 2 working days from Mon 30 Nov = Wed 2 Dec. Stage 3 from Wed 2 Dec 10:00 + 2 = Fri 4 Dec.
    # Stage 4 from Fri 4 Dec 15:00 + 4 = Thu 10 Dec; resolved Wed 9 Dec: met.
    assert clock_rows(case) == [
        (0, None, None, None, None, "not-recorded"),
        (1, None, None, None, None, "not-recorded"),
        (2, None, "2026-11-30 00:00", "2026-12-02 23:59", "2026-12-07 23:59", "met"),
        (3, None, "2026-12-02 10:00", "2026-12-04 23:59", "2026-12-09 23:59", "met"),
        (4, None, "2026-12-04 15:00", "2026-12-10 23:59", "2026-12-15 23:59", "met"),
    ]


def test_haringey_conference_after_stage_1_and_a_mentioned_condition_needs_review(tmp_path):
    """GIVEN Haringey WHEN a stage 1 summary (actions agreed) only mentions imminent risk in prose
    THEN the acknowledgement says a conference may be requested after stage 1 and that the case start
    is needed (with the line to type), the case is on the needs-review list quoting the sentence and no
    fact is set; stage 1 (no fixed timescale) is reviewed 5 working days later, across Christmas."""
    s = Scenario(tmp_path, "haringey")
    first = mail(local(2026, 12, 21, 10, 0), "Escalation & Resolution Protocol: Stage 1 Summary",
                 ["Outcome: actions agreed", "We believe the child is at imminent risk and a conference is needed."],
                 sender="Fay Kerr <fay.kerr@nhs.example>", n=1)
    (ack,) = s.run(local(2026, 12, 21, 10, 5), first)
    body = " ".join(ack.message.get_body(("plain",)).get_content().split())
    assert "where a child protection conference is sought, the agency may now formally request" in body
    assert 'type "Date raised: DD/MM/YYYY"' in body
    case = s.case("HAR-2026-0001", local(2026, 12, 21, 10, 6))
    assert case["status"] == "needs-review" and "imminent-risk" not in case["facts"]
    assert "\u201cWe believe the child is at imminent risk and a conference is needed.\u201d" in case["review_reason"]
    # 5 working days from Mon 21 Dec: 22, 23, 24, (25 and 28 bank holidays), 29, 30 -> Wed 30 Dec.
    assert s.run(local(2026, 12, 29, 10, 0)) == []
    assert _subjects(s.run(local(2026, 12, 30, 10, 0))) == [
        ("Review: stage 1 is still running", BU), ("Review: stage 1 is still running", ("fay.kerr@nhs.example",))]
