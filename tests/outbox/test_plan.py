"""Planning what the outbox owes a case: pure, from recorded facts and ``now``."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from resdesk.cases.facts import FactValue
from resdesk.protocols import LOCAL, WorkingCalendar, default_registry, to_local
from resdesk.render.text import render_text
from resdesk.outbox.plan import CaseSnapshot, EventSnapshot, PartySnapshot, in_working_hours, plan_case
from resdesk.render.views import AcknowledgementView, EscalationConcernView, NoticeView, ResolutionNoticeView

REGISTRY = default_registry()
ENGLAND = WorkingCalendar("england")
BU = "business.unit@partnership.example"
OURS = "Escalations <escalations@partnership.example>"


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LOCAL)


def _message(event_id: int, at: datetime, **detail) -> EventSnapshot:
    base = {
        "ledger_id": event_id, "classification": "stage-summary", "stage": 2, "outcome": "escalated",
        "sender": "s.obriain@nca.example", "sender_name": "Siobhán Ó Briain",
        "subject": "Escalation & Resolution Protocol: Stage 2 Summary", "message_id": f"<m{event_id}@nca.example>",
        "references": [], "forms": [], "acknowledge": True, "sha256": "0" * 64,
    }
    base.update(detail)
    return EventSnapshot(id=event_id, kind="message-recorded", at=at, stage=base["stage"], detail=base,
                      message_id=base["message_id"], ledger_id=event_id)


def _entered(event_id: int, stage: int, at: datetime, variant: str | None = None) -> EventSnapshot:
    return EventSnapshot(id=event_id, kind="stage-entered", at=at, stage=stage, variant=variant, detail={"because": "test"})


def _fact(name: str, value) -> FactValue:
    return FactValue(name, value, "person", False, "Pat Jones", local(2026, 11, 1, 9))


def _case(protocol: str, events: list[EventSnapshot], ref: str = "OLD-2026-0007", status: str = "open",
          **facts) -> CaseSnapshot:
    """A case snapshot; ``facts`` by name with ``_`` for ``-`` (threshold_dispute=True)."""
    held = {name.replace("_", "-") if name != "case_start" else name: _fact(name, value)
            for name, value in facts.items()}
    return CaseSnapshot(
        ref=ref, protocol=protocol, status=status, events=tuple(events),
        parties=(PartySnapshot("Siobhán Ó Briain", "s.obriain@nca.example", "Northern Care Alliance", "Team Manager"),),
        child_name="Zoë Adeyemi", child_dob=date(2015, 4, 3), child_identifier="943 476 5919", facts=held,
    )


def _plan(facts: CaseSnapshot, now: datetime):
    protocol = REGISTRY.get(facts.protocol)
    return plan_case(facts, protocol, ENGLAND, now, business_unit=BU, own_addresses=[OURS])


SUMMARY_AT = local(2026, 12, 23, 10, 0)
OLDHAM_STAGE2_ESCALATED = [
    _entered(1, 1, local(2026, 12, 16, 9)),
    _entered(2, 2, local(2026, 12, 18, 16)),
    _entered(3, 3, SUMMARY_AT),
    _message(4, SUMMARY_AT),
]


def test_working_hours_are_nine_to_five_on_working_days():
    """GIVEN England's calendar WHEN instants around the edges are tested THEN only 09:00-16:59 on
    a working day counts (weekends, Christmas and the substitute Boxing Day do not)."""
    assert in_working_hours(local(2026, 12, 23, 9, 0), ENGLAND)
    assert in_working_hours(local(2026, 12, 23, 16, 59, 59), ENGLAND)
    assert not in_working_hours(local(2026, 12, 23, 8, 59, 59), ENGLAND)
    assert not in_working_hours(local(2026, 12, 23, 17, 0), ENGLAND)
    assert not in_working_hours(local(2026, 12, 26, 11, 0), ENGLAND)  # Saturday
    assert not in_working_hours(local(2026, 12, 25, 11, 0), ENGLAND)  # Christmas Day
    assert not in_working_hours(local(2026, 12, 28, 11, 0), ENGLAND)  # Boxing Day (substitute)
    # 09:30 local in summer is 08:30 UTC: local time decides.
    assert in_working_hours(datetime.fromisoformat("2026-06-10T08:30:00+00:00"), ENGLAND)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)))
def test_working_hours_property(moment):
    """GIVEN any local instant WHEN tested THEN it is in working hours exactly when its day is a
    working day and its hour is 9 to 16."""
    at = to_local(moment)
    expected = ENGLAND.is_working_day(at.date()) and 9 <= at.hour < 17
    assert in_working_hours(at, ENGLAND) == expected


def test_oldham_stage2_escalated_plans_acknowledgement_and_stage3_notification():
    """GIVEN an Oldham stage 2 summary with outcome escalated, received Wed 23 Dec 2026 10:00
    WHEN planned THEN the sender gets one acknowledgement, threaded onto the summary, stating the
    stage 3 due time (two working days past Christmas and Boxing Day: Tue 29 Dec 23:59:59), and the
    OSCP group gets the Notification of Escalation progressing to stage 3 — nothing else."""
    plan = _plan(_case("oldham", OLDHAM_STAGE2_ESCALATED), SUMMARY_AT + timedelta(seconds=5))
    keys = sorted(p.key for p in plan.planned)
    assert keys == [
        "ack:4",
        "notice:OLD-2026-0007:3:stage-3-notification:oldham-safeguarding-children-partnership-oscp-gr",
    ]
    ack = next(p for p in plan.planned if p.kind == "acknowledgement")
    assert ack.recipient == "Siobhán Ó Briain <s.obriain@nca.example>"
    assert ack.in_reply_to == "<m4@nca.example>"
    view = ack.view
    assert isinstance(view, AcknowledgementView)
    assert view.stage == 3 and view.due == local(2026, 12, 29, 23, 59, 59)
    assert view.what_was_recorded == "the stage 2 summary (outcome: escalated)"
    assert "Resolution Notice" in view.if_unresolved
    notice = next(p for p in plan.planned if p.kind == "notice")
    # The protocol file prints OSCP's own address; the configured business unit receives it.
    assert notice.recipient == f"Business Unit <{BU}>"
    assert notice.in_reply_to == "<m4@nca.example>"
    assert isinstance(notice.view, NoticeView)
    assert notice.view.title == "Notification of Escalation progressing to stage 3"
    assert notice.view.kind == "stage3-notification"


def test_automatic_mail_and_our_own_mail_get_no_acknowledgement():
    """GIVEN a recorded out-of-office and a message from our own sender address WHEN planned
    THEN neither is acknowledged, and each is reported as skipped with its reason."""
    events = [
        _entered(1, 2, local(2026, 12, 18, 16)),
        _message(2, local(2026, 12, 21, 9), acknowledge=False, classification="automatic"),
        _message(3, local(2026, 12, 21, 10), sender="escalations@partnership.example", sender_name="Escalations"),
    ]
    plan = _plan(_case("oldham", events), local(2026, 12, 21, 10, 1))
    assert [p for p in plan.planned if p.kind == "acknowledgement"] == []
    reasons = {s.key: s.reason for s in plan.skipped}
    assert "automatic" in reasons["ack:2"] and "own address" in reasons["ack:3"]


def test_hostile_sender_header_is_not_acknowledged_to_two_addresses():
    """GIVEN a recorded sender that is two addresses WHEN planned THEN no acknowledgement is planned."""
    events = [_entered(1, 2, local(2026, 12, 18, 16)),
              _message(2, local(2026, 12, 21, 9), sender="a@nca.example, evil@attacker.example")]
    plan = _plan(_case("oldham", events), local(2026, 12, 21, 9, 1))
    assert [p.key for p in plan.planned if p.kind == "acknowledgement"] == []
    assert any(s.key == "ack:2" for s in plan.skipped)


def test_reminder_on_the_due_day_in_working_hours_and_overdue_after():
    """GIVEN stage 3 due Tue 29 Dec 2026 23:59:59 WHEN planned at several instants THEN a reminder
    is planned on the 29th in working hours only, an overdue alert on the next working day, both to
    the business unit (and a copy to the agency on the case), with keys naming the stage and due time."""
    facts = _case("oldham", OLDHAM_STAGE2_ESCALATED)

    def extra(now):
        planned = [p for p in _plan(facts, now).planned if p.kind in ("reminder", "overdue")]
        copies = sorted(p.key for p in planned if ":party:" in p.key)
        assert copies == sorted(p.key + ":party:s-obriain-nca-example" for p in planned if ":party:" not in p.key)
        return sorted(p.key for p in planned if ":party:" not in p.key)

    assert extra(local(2026, 12, 24, 11)) == []  # a working day, but not the due day
    assert extra(local(2026, 12, 29, 8, 30)) == []  # the due day, before hours
    assert extra(local(2026, 12, 29, 11)) == ["reminder:OLD-2026-0007:3:2026-12-29T23:59:59+00:00"]
    assert extra(local(2026, 12, 29, 18)) == []  # after hours
    assert extra(local(2026, 12, 30, 9, 0)) == ["overdue:OLD-2026-0007:3:2026-12-29T23:59:59+00:00"]
    # Stage 3's cumulative target is day 11 from the case's start on 16 Dec: Tue 5 Jan 2027.
    assert extra(local(2027, 1, 6, 9, 0)) == [
        "overdue:OLD-2026-0007:3:2026-12-29T23:59:59+00:00",
        "overdue:OLD-2026-0007:3:cumulative:2027-01-05T23:59:59+00:00",
    ]
    overdue = [p for p in _plan(facts, local(2026, 12, 30, 9)).planned if p.kind == "overdue"][0]
    assert overdue.recipient.endswith(f"<{BU}>")


def test_resolved_case_gets_no_reminders():
    """GIVEN a resolved case WHEN planned on a due day THEN no reminder or alert is planned."""
    facts = _case("oldham", OLDHAM_STAGE2_ESCALATED, status="resolved")
    assert [p for p in _plan(facts, local(2026, 12, 30, 10)).planned if p.kind in ("reminder", "overdue")] == []


def test_oldham_stage4_resolution_notice_prefilled_from_the_latest_form():
    """GIVEN an Oldham case entering stage 4 after a Resolution Notice form was read WHEN planned
    THEN the notice to OSCP carries a Resolution Notice view filled with that form's values."""
    at = local(2027, 1, 6, 11)
    form = EventSnapshot(id=10, kind="form-read", at=at, detail={"kind": "resolution-notice", "filename": "rn.docx", "fields": {
        "notification_date": "2027-01-06", "child_name": "Zoë Adeyemi", "raised_by_name": "Dev Patel",
        "raised_by_agency": "Oldham CSC", "outcome_summary": "Unresolved at stage 3 & referred",
        "actions": [{"action": "Convene virtual panel", "owner": "OSCP", "timeline": "4 working days", "completed": None}],
    }})
    events = [*OLDHAM_STAGE2_ESCALATED, form, _entered(11, 4, at)]
    plan = _plan(_case("oldham", events), at)
    (rn,) = [p for p in plan.planned if p.key.startswith("notice:OLD-2026-0007:4:resolution-notice:")]
    assert rn.document == "resolution-notice" and rn.recipient.endswith(f"<{BU}>")
    assert isinstance(rn.form, ResolutionNoticeView)
    assert rn.form.raised_by_name == "Dev Patel" and rn.form.outcome_summary == "Unresolved at stage 3 & referred"
    assert rn.form.notification_date == date(2027, 1, 6) and rn.form.child_identifier == "943 476 5919"
    assert rn.form.actions[0].action == "Convene virtual panel"


def test_sandwell_iro_notice_only_with_a_plan_and_escalation_template_at_stage2():
    """GIVEN Sandwell cases entering stages 1 and 2, one child with a plan and one without
    WHEN planned at stage 1 THEN the IRO notice goes (to the business unit, the definition giving no address)
    only for the child with a plan; planned first once stage 2 has begun, it is superseded (the case moved
    past stage 1); the escalation template goes to the SCSP Business Unit at stage 2."""
    events = [_entered(1, 1, local(2026, 11, 2, 10)), _entered(2, 2, local(2026, 11, 4, 10))]
    on_a_plan = _case("sandwell", events, ref="SAN-2026-0001", child_protection_plan_or_looked_after=True)
    with_plan = _plan(on_a_plan, local(2026, 11, 2, 10, 1))
    without = _plan(_case("sandwell", events, ref="SAN-2026-0002"), local(2026, 11, 4, 10, 1))
    iro = [p for p in with_plan.planned if ":iro-notification:" in p.key]
    assert len(iro) == 1 and iro[0].recipient == f"Business Unit <{BU}>" and iro[0].view.kind == "iro-notice"
    assert iro[0].view.recipient.name.endswith("Independent Reviewing Officer")
    late = _plan(on_a_plan, local(2026, 11, 4, 10, 1))
    assert [p for p in late.planned if ":iro-notification:" in p.key] == []
    assert [s.key for s in late.superseded] == [iro[0].key]
    assert [p for p in without.planned if ":iro-notification:" in p.key] == []
    assert any(":iro-notification:" in s.key and "condition" in s.reason for s in without.skipped)
    (template,) = [p for p in without.planned if p.key.startswith("notice:SAN-2026-0002:2:escalation-template:")]
    assert template.recipient.endswith(f"<{BU}>")
    assert isinstance(template.form, EscalationConcernView) and template.form.child_name == "Zoë Adeyemi"


def test_gloucestershire_stage4_account_tells_the_history():
    """GIVEN a Gloucestershire case that climbed to stage 4 WHEN planned THEN the business unit's
    stage 4 notice is the full account, its history listing every stage entered."""
    events = [_entered(i, i, local(2026, 11, 2 + i, 10)) for i in range(1, 5)]
    plan = _plan(_case("gloucestershire", events, ref="GLO-2026-0001"), local(2026, 11, 6, 10, 1))
    (account,) = [p for p in plan.planned if ":4:stage-4-referral:gscp-business-unit" in p.key]
    (executive,) = [p for p in plan.planned if ":4:stage-4-referral:the-agency-representative" in p.key]
    assert executive.view.recipient.name == (
        "Business Unit, for the attention of: The agency representative/s on the GSCP Executive")
    assert account.view.kind == "stage4-account"
    assert [row.stage for row in account.view.history] == [1, 2, 3, 4]


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=14 * 24 * 60))
def test_planning_again_asks_for_the_same_messages(minutes):
    """GIVEN the Oldham case WHEN planned at any instant in the fortnight after the summary
    THEN the acknowledgement and notice keys never change, and reminders or alerts are planned only
    in working hours, at most one, keyed by the stage's due time."""
    now = SUMMARY_AT + timedelta(minutes=minutes)
    plan = _plan(_case("oldham", OLDHAM_STAGE2_ESCALATED), now)
    fixed = sorted(p.key for p in plan.planned if p.kind in ("acknowledgement", "notice"))
    assert fixed == [
        "ack:4",
        "notice:OLD-2026-0007:3:stage-3-notification:oldham-safeguarding-children-partnership-oscp-gr",
    ]
    timed = sorted(p.key for p in plan.planned if p.kind in ("reminder", "overdue") and ":party:" not in p.key)
    if timed:
        assert in_working_hours(now, ENGLAND)
    stage_due = [k for k in timed if k.endswith(":3:2026-12-29T23:59:59+00:00")]
    cumulative = [k for k in timed if k.endswith(":3:cumulative:2027-01-05T23:59:59+00:00")]
    assert len(stage_due) == len(timed) - len(cumulative) <= 1
    assert (len(cumulative) == 1) == (timed != [] and now > local(2027, 1, 5, 23, 59, 59))


def test_acknowledging_the_resolving_summary_says_nothing_further_is_due():
    """GIVEN an Oldham stage 3 summary saying resolved WHEN its acknowledgement is planned
    THEN it states the case is resolved and that nothing further is due, not a missing timescale."""
    at = local(2026, 12, 24, 15)
    events = [*OLDHAM_STAGE2_ESCALATED,
              EventSnapshot(id=5, kind="resolved", at=at, stage=3, detail={"because": "stage 3 summary: resolved"}),
              _message(6, at, stage=3, outcome="resolved", subject="Escalation & Resolution Protocol: Stage 3 Summary")]
    plan = _plan(_case("oldham", events, status="resolved"), at)
    (ack,) = [p for p in plan.planned if p.key == "ack:6"]
    assert ack.view.due is None
    assert ack.view.due_note == "Nothing further is due: the case was resolved on 24 December 2026"
    assert ack.view.next_action.startswith("None: resolved")
    assert "Due: Nothing further is due: the case was resolved on 24 December 2026" in render_text("acknowledgement.txt", ack.view)


def test_no_generated_mail_goes_to_an_address_from_a_protocol_file():
    """GIVEN every protocol, a case that enters every stage (each variant) and is resolved at each,
    with every condition true and no contacts configured WHEN planned THEN every notice kind the
    definitions name is planned, and none is addressed to an address printed in a protocol file:
    each goes to the configured business unit (or to the case's agency for copies)."""
    published = {n.published_address.lower() for p in REGISTRY for s in p.stages for n in s.notify if n.published_address}
    assert "oscp.group@oldham.gov.uk" in published and "scsp_business@sandwell.gov.uk" in published
    conditions = {c: True for c in ("child_protection_plan_or_looked_after", "threshold_dispute",
                                    "childrens_trust_involved", "imminent_risk", "lessons_learned",
                                    "conference_requested")}
    kinds_named = {n.notice.value for p in REGISTRY for s in p.stages for n in s.notify}
    kinds_planned: set[str] = set()
    for protocol in REGISTRY:
        for urgent in (True, False):
            events = [_entered(i, s.number, local(2026, 11, 2, 9) + timedelta(hours=i), s.variant)
                      for i, s in enumerate(protocol.stages, start=1)]
            # Planned as each stage is entered (a notice for a stage moved past is superseded), and
            # once resolved at it.
            for index, stage in enumerate(protocol.stages):
                resolved = EventSnapshot(id=100, kind="resolved", at=events[index].at + timedelta(minutes=30),
                                         stage=stage.number, variant=stage.variant)
                for upto in (events[: index + 1], [*events[: index + 1], resolved]):
                    snapshot = _case(protocol.id, upto, ref=f"{protocol.reference_prefix}-2026-0001",
                                     urgent=urgent, **conditions)
                    plan = _plan(snapshot, upto[-1].at + timedelta(minutes=1))
                    for item in plan.planned:
                        assert item.recipient.split("<")[-1].rstrip(">").lower() not in published, item.key
                        assert item.recipient.endswith((f"<{BU}>", "<s.obriain@nca.example>")), item.key
                    kinds_planned |= {item.key.split(":")[3] for item in plan.planned if item.kind == "notice"}
    assert kinds_planned == kinds_named


def test_oldham_early_resolution_tells_the_practitioners_the_outcome_letter_is_due_in_a_further_2_working_days():
    """GIVEN an Oldham case resolved at early resolution on Thu 24 Dec 2026 WHEN planned THEN the outcome
    letter notice goes to the business unit and the practitioner, due within a further 2 working days (§3):
    day 0 Thu 24 Dec, Fri 25 and Mon 28 are bank holidays, Tue 29 (1), Wed 30 (2) -> Wed 30 Dec 23:59."""
    at = local(2026, 12, 24, 11)
    events = [_entered(1, 0, local(2026, 12, 22, 9)),
              EventSnapshot(id=2, kind="resolved", at=at, stage=0, detail={"because": "test"})]
    plan = _plan(_case("oldham", events, ref="OLD-2026-0009", case_start=local(2026, 12, 22, 9)), at + timedelta(minutes=1))
    letters = [p for p in plan.planned if ":0:outcome-letter:" in p.key]
    assert sorted(p.recipient.split("<")[-1].rstrip(">") for p in letters) == [BU, "s.obriain@nca.example"]
    assert {(p.view.kind, p.view.due, p.view.title) for p in letters} == {
        ("outcome-letter", local(2026, 12, 30, 23, 59, 59), "Outcome to be confirmed in writing: resolved at stage 0")}
    assert letters[0].view.basis.startswith("2 working days: the responsible practitioner's written outcome")


def test_a_notice_that_goes_late_describes_the_case_as_it_is_then():
    """GIVEN an Oldham case that entered stage 3 on Wed 23 Dec 2026 10:00 (due 2 working days later: Thu 24,
    Tue 29 -> Tue 29 Dec 23:59) WHEN its stage 3 notification is first planned on Wed 30 Dec, the case still
    at stage 3 THEN it is dated then and says stage 3 is overdue, not due."""
    late = local(2026, 12, 30, 10)
    plan = _plan(_case("oldham", OLDHAM_STAGE2_ESCALATED), late)
    (notice,) = [p for p in plan.planned if ":3:stage-3-notification:" in p.key]
    assert notice.view.issued_at == late
    assert notice.view.due == local(2026, 12, 29, 23, 59, 59)
    assert notice.view.next_action.startswith("Stage 3 is overdue since Tue 29 Dec 2026 23:59")


def test_lscp_lsab_review_group_referral_for_a_non_urgent_case_and_for_lessons_learned_when_urgent():
    """GIVEN LSCP/LSAB cases entering step 4 WHEN planned THEN (Step 4 'Non-urgent and/or lessons learned')
    a non-urgent case is referred to the review group whatever the lessons; an urgent one goes to the
    independent chair, and to the review group only with lessons learned."""
    events = [_entered(1, 3, local(2026, 11, 23, 10)), _entered(2, 4, local(2026, 11, 24, 11))]
    now = local(2026, 11, 24, 11, 1)

    def kinds(**facts) -> list[str]:
        plan = _plan(_case("lscp-lsab", events, ref="LSC-2026-0001", **facts), now)
        return sorted(p.key.split(":")[3] for p in plan.planned if p.key.startswith("notice:LSC-2026-0001:4"))

    assert kinds(urgent=False) == ["stage-4-referral"]
    assert kinds(urgent=False, lessons_learned=True) == ["stage-4-referral"]
    assert kinds(urgent=True) == ["chair-referral"]
    assert kinds(urgent=True, lessons_learned=True) == ["chair-referral", "lessons-learned-referral"]


def _timed(facts: CaseSnapshot, now: datetime) -> list[str]:
    return sorted(p.key for p in _plan(facts, now).planned if p.kind in ("reminder", "overdue") and ":party:" not in p.key)


def test_a_stages_own_deadline_in_working_days_is_reminded_on_its_day_then_alerted():
    """GIVEN Gloucestershire stage 3 entered Thu 26 Nov 2026 (due Thu 3 Dec), whose escalation to stage 4 is
    due no later than one working day after (Fri 4 Dec) WHEN planned at several instants THEN the escalation
    is reminded on Fri 4 Dec in working hours only, beside the stage's own overdue alert, and alerted as
    overdue from the next working day; each key names the deadline and its due time."""
    facts = _case("gloucestershire", [_entered(1, 1, local(2026, 11, 23, 9)), _entered(2, 2, local(2026, 11, 24, 9)),
                                      _entered(3, 3, local(2026, 11, 26, 10))], ref="GLO-2026-0001")
    escalation = "GLO-2026-0001:3:escalate-to-stage-4:2026-12-04T23:59:59+00:00"
    assert not [k for k in _timed(facts, local(2026, 12, 3, 11)) if "escalate" in k]
    assert _timed(facts, local(2026, 12, 4, 11)) == [
        "overdue:GLO-2026-0001:3:2026-12-03T23:59:59+00:00", f"reminder:{escalation}"]
    assert _timed(facts, local(2026, 12, 4, 18)) == []  # after hours
    assert f"overdue:{escalation}" in _timed(facts, local(2026, 12, 7, 10))
    assert not [k for k in _timed(facts, local(2026, 12, 7, 10)) if k.startswith("reminder:")]


def test_a_deadline_in_hours_is_reminded_from_the_last_working_hours_before_it():
    """GIVEN LSCP/LSAB urgent step 4 entered Tue 24 Nov 2026 11:00, its meeting date to be set within 24 hours
    (Wed 25 Nov 11:00) WHEN planned THEN the reminder is owed from 09:00 on the Wednesday, not before, and the
    overdue alert once 11:00 has passed."""
    facts = _case("lscp-lsab", [_entered(1, 3, local(2026, 11, 20, 10)), _entered(2, 4, local(2026, 11, 24, 11), "urgent")],
                  ref="LSC-2026-0001", urgent=True)
    key = "LSC-2026-0001:4-urgent:meeting-date-set:2026-11-25T11:00:00+00:00"

    def about_the_meeting(now):
        return [k for k in _timed(facts, now) if "meeting-date-set" in k]

    assert about_the_meeting(local(2026, 11, 24, 15)) == []
    assert about_the_meeting(local(2026, 11, 25, 8, 59)) == []
    assert about_the_meeting(local(2026, 11, 25, 9, 30)) == [f"reminder:{key}"]
    assert about_the_meeting(local(2026, 11, 25, 11, 30)) == [f"overdue:{key}"]


def test_the_imminent_risk_referral_is_reminded_and_the_case_is_due_for_it():
    """GIVEN a Sandwell stage 1 started on Saturday 21 Nov 2026 with a child at imminent risk (the MARF and MASH
    referral due the same working day: Mon 23 Nov) WHEN planned on the Sunday THEN nothing is owed yet and the
    case is next due at 09:00 on the Monday; WHEN planned then THEN the referral is reminded, to the business
    unit and the agency on the case, saying what is due and by when, in the subject, the letter and its PDF."""
    from resdesk.outbox.compose import compose_reminder
    from resdesk.outbox.due import next_due

    facts = _case("sandwell", [_entered(1, 1, local(2026, 11, 21, 10))], ref="SAN-2026-0001", imminent_risk=True)
    sandwell = REGISTRY.get("sandwell")
    assert _timed(facts, local(2026, 11, 22, 10)) == []
    assert next_due(facts, sandwell, ENGLAND, local(2026, 11, 22, 10)) == local(2026, 11, 23, 9)
    monday = local(2026, 11, 23, 9, 0)
    reminders = [p for p in _plan(facts, monday).planned if p.kind == "reminder"]
    assert sorted(p.key for p in reminders) == [
        "reminder:SAN-2026-0001:1:imminent-risk-referral:2026-11-23T23:59:59+00:00",
        "reminder:SAN-2026-0001:1:imminent-risk-referral:2026-11-23T23:59:59+00:00:party:s-obriain-nca-example"]
    mail = compose_reminder(reminders[0].view, idempotency_key=reminders[0].key, sender=OURS)
    assert mail.subject.startswith("Reminder at stage 1: a MARF completed and the case referred to MASH")
    assert "a MARF completed and the case referred to MASH is due Monday 23 November 2026" in mail.body_text
    (pdf,) = mail.attachments
    assert pdf.content.startswith(b"%PDF")
    assert next_due(facts, sandwell, ENGLAND, local(2026, 11, 23, 9, 30)) == local(2026, 11, 24, 9)


def test_a_stage_entered_again_owes_its_notice_and_is_not_superseded_by_its_earlier_entry():
    """GIVEN an Oldham case that entered stage 3, moved on to stage 4, and was set back to stage 3 before any
    planning ran WHEN planned THEN the stage 3 notification is owed (planned) and not also recorded as
    superseded under the same key, while stage 4's Resolution Notice, moved past, is superseded."""
    events = [_entered(1, 1, local(2026, 12, 16, 9)), _entered(2, 2, local(2026, 12, 17, 9)),
              _entered(3, 3, local(2026, 12, 18, 9)), _entered(4, 4, local(2026, 12, 21, 9)),
              _entered(5, 3, local(2026, 12, 21, 11))]
    plan = _plan(_case("oldham", events), local(2026, 12, 21, 12))
    notice = "notice:OLD-2026-0007:3:stage-3-notification:oldham-safeguarding-children-partnership-oscp-gr"
    assert notice in {p.key for p in plan.planned}
    assert [s.key for s in plan.superseded] == [
        "notice:OLD-2026-0007:4:resolution-notice:oldham-safeguarding-children-partnership-oscp-gr"]
