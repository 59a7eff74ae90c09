"""Correlation's questions answered from the case file: by reference, by thread, by child."""

from __future__ import annotations

from datetime import date, datetime, timezone

from resdesk.cases import StoreKnownCases
from resdesk.outbox import queue as outbox
from resdesk.cases.models import Message

AT = datetime(2026, 4, 14, 10, 30, tzinfo=timezone.utc)


def _two_cases(store, oldham):
    with store.transaction() as tx:
        first = tx.create_case(oldham, AT, child_identifier="943 476 5919", child_name="Amy Smith", child_dob=date(2015, 4, 3))
        tx.add_party(first, email="sam@school.example", agency="Greenfield Primary")
        second = tx.create_case(oldham, AT, child_name="Ben Jones", child_dob=date(2016, 1, 9))
        tx.add_party(second, email="k@nhs.example", agency="NHS Oldham")
        tx.session.add(Message(account="inbox", folder="INBOX", uidvalidity="1", uid="7", state="done",
                               message_id="<summary-1@school.example>", case_id=first.id))
        outbox.enqueue(tx, idempotency_key="ack:1", message_id="<ack-1@resdesk.example>", kind="acknowledgement",
                       recipients=["k@nhs.example"], subject="Acknowledged", raw=b"x", case=second)
    return StoreKnownCases(store)


def test_case_for_reference(store, oldham):
    """GIVEN two cases WHEN asked by reference (any case) THEN the case is found; an unknown one is not."""
    known = _two_cases(store, oldham)
    assert known.case_for_reference("old-2026-0002") == "OLD-2026-0002"
    assert known.case_for_reference("OLD-2026-0042") is None


def test_case_for_message_ids_knows_received_and_sent_mail(store, oldham):
    """GIVEN a received summary and a sent acknowledgement WHEN a reply cites either THEN its case is found."""
    known = _two_cases(store, oldham)
    assert known.case_for_message_ids(["<summary-1@school.example>"]) == "OLD-2026-0001"
    assert known.case_for_message_ids(["<nobody@x>", "ack-1@resdesk.example"]) == "OLD-2026-0002"
    # Tried in the order given: In-Reply-To first, then References newest first.
    both = ["<ack-1@resdesk.example>", "<summary-1@school.example>"]
    assert known.case_for_message_ids(both) == "OLD-2026-0002"
    assert known.case_for_message_ids(list(reversed(both))) == "OLD-2026-0001"
    assert known.case_for_message_ids(["<nobody@x>"]) is None
    assert known.case_for_message_ids([]) is None


def test_case_for_child_by_identifier_ignores_spacing(store, oldham):
    """GIVEN a case for NHS number 943 476 5919 WHEN a form gives 943-476-5919 with the child's name
    THEN that case is found."""
    known = _two_cases(store, oldham)
    assert known.case_for_child("943-476-5919", "amy  smith", None, []) == "OLD-2026-0001"
    assert known.case_for_child("9434765910", "Amy Smith", date(2015, 4, 3), ["Greenfield Primary"]) is None


def test_case_for_child_by_name_needs_birth_date_and_a_shared_agency(store, oldham):
    """GIVEN a case for Ben Jones with the NHS WHEN a form names him THEN only name, birth date and agency together match."""
    known = _two_cases(store, oldham)
    assert known.case_for_child(None, "ben  JONES", date(2016, 1, 9), ["nhs oldham"]) == "OLD-2026-0002"
    assert known.case_for_child(None, "Ben Jones", date(2016, 1, 9), ["Police"]) is None
    assert known.case_for_child(None, "Ben Jones", date(2016, 1, 10), ["NHS Oldham"]) is None
    assert known.case_for_child(None, "Ben Jones", date(2016, 1, 9), []) is None


def test_resolved_cases_are_not_matched_by_child(store, oldham):
    """GIVEN a resolved case WHEN a new form names the same child THEN no case is matched (a new one opens)."""
    known = _two_cases(store, oldham)
    with store.transaction() as tx:
        case = tx.require_case("OLD-2026-0001")
        tx.record_stage_summary(case, oldham, 1, "resolved", AT)
    assert known.case_for_child("9434765919", "Amy Smith", date(2015, 4, 3), []) is None


def test_an_identifier_alone_never_joins_two_children(store, oldham):
    """GIVEN a case for Amy Smith, NHS number 943 476 5919 WHEN a form gives the same number with no name
    or date of birth, or with another child's name and date of birth THEN no case is found;
    with her name or her date of birth agreeing, it is."""
    known = _two_cases(store, oldham)
    assert known.case_for_child("9434765919", None, None, ["Greenfield Primary"]) is None
    assert known.case_for_child("9434765919", "Zara Khan", date(2019, 2, 2), ["Greenfield Primary"]) is None
    assert known.case_for_child("9434765919", None, date(2015, 4, 3), []) == "OLD-2026-0001"
    assert known.case_for_child("9434765919", "Amy Smith", date(2019, 2, 2), []) == "OLD-2026-0001"


def test_one_message_id_on_several_cases_finds_where_it_was_received_then_sent_then_the_newest(store, oldham):
    """GIVEN one Message-ID named by an event on a third case, sent on a second and received on the
    first, and another received on two cases WHEN a reply cites them THEN a received message's case
    comes before a sent one's, a sent one's before an event's, and of two cases the newer; a
    Message-ID found nowhere gives way to the next, even one only an event names."""
    known = _two_cases(store, oldham)
    with store.transaction() as tx:
        third = tx.create_case(oldham, AT, child_name="Cara Dee", child_dob=date(2017, 2, 2))
        tx.add_event(third, "message-recorded", AT, message_id="<ack-1@resdesk.example>")
        tx.add_event(third, "message-recorded", AT, message_id="<only-an-event@school.example>")
        first, second = tx.case_by_ref("OLD-2026-0001"), tx.case_by_ref("OLD-2026-0002")
        for uid, case in (("8", first), ("9", second)):
            tx.session.add(Message(account="inbox", folder="INBOX", uidvalidity="1", uid=uid, state="done",
                                   message_id="<forwarded@school.example>", case_id=case.id))
    assert known.case_for_message_ids(["<ack-1@resdesk.example>"]) == "OLD-2026-0002"
    with store.transaction() as tx:
        tx.session.add(Message(account="inbox", folder="INBOX", uidvalidity="1", uid="10", state="done",
                               message_id="<ack-1@resdesk.example>", case_id=tx.case_by_ref("OLD-2026-0001").id))
    assert known.case_for_message_ids(["ack-1@resdesk.example"]) == "OLD-2026-0001"
    assert known.case_for_message_ids(["<forwarded@school.example>"]) == "OLD-2026-0002"
    assert known.case_for_message_ids(["<nobody@x>", "<only-an-event@school.example>"]) == "OLD-2026-0003"


def test_a_reply_citing_tens_of_thousands_of_message_ids_finds_its_case(store, oldham):
    """GIVEN a reply whose References hold 45,000 Message-IDs (a 256 KB header section allows that
    many), only the last filed on a case, and one whose first is filed on another WHEN correlation asks
    THEN the first finds the last one's case (the Message-IDs are asked a few hundred at a time, never
    more than a statement may bind), and the second the case of its first, before any later one."""
    from resdesk.cases import lookup

    known = _two_cases(store, oldham)
    many = [f"<r{number}@x.example>" for number in range(45_000)]
    assert known.case_for_message_ids([*many, "<summary-1@school.example>"]) == "OLD-2026-0001"
    assert known.case_for_message_ids(["<ack-1@resdesk.example>", *many, "<summary-1@school.example>"]) == "OLD-2026-0002"
    assert known.case_for_message_ids(many) is None
    assert len(many) > 10 * lookup.MESSAGE_IDS_A_QUERY


def test_lookups_inside_an_open_unit_of_work(store, oldham):
    """GIVEN a unit of work that has just opened a case WHEN correlation asks inside it THEN the new case is seen."""
    with store.transaction() as tx:
        case = tx.create_case(oldham, AT, child_identifier="9434765919", child_dob=date(2015, 4, 3))
        known = StoreKnownCases(tx)
        assert known.case_for_reference(case.ref) == case.ref
        assert known.case_for_child("943 476 5919", None, date(2015, 4, 3)) == case.ref


def test_two_open_cases_for_one_child_are_told_apart_by_agency_or_not_at_all(store, oldham):
    """GIVEN two open cases for the same NHS number, with different agencies WHEN a form names the child
    THEN the agency picks the case; without a telling agency no case is chosen."""
    with store.transaction() as tx:
        school = tx.create_case(oldham, AT, child_identifier="9434765919", child_name="Amy Smith")
        tx.add_party(school, agency="Greenfield Primary")
        police = tx.create_case(oldham, AT, child_identifier="943 476 5919", child_name="Amy Smith")
        tx.add_party(police, agency="Greater Manchester Police")
    known = StoreKnownCases(store)
    assert known.case_for_child("9434765919", "Amy Smith", None, ["Greater Manchester Police"]) == police.ref
    assert known.case_for_child("9434765919", "Amy Smith", None, ["Greenfield Primary"]) == school.ref
    assert known.case_for_child("9434765919", "Amy Smith", None, []) is None
    assert known.case_for_child("9434765919", "Amy Smith", None, ["NHS"]) is None


def test_store_known_cases_is_what_correlation_asks_for(store, oldham):
    """GIVEN correlation's KnownCases interface WHEN the store's adapter is compared THEN it has the same methods
    and parameter names, and correlation finds a case through it."""
    import inspect

    from resdesk.intake.correlate import KnownCases

    for method in ("case_for_reference", "case_for_message_ids", "case_for_child"):
        wanted = list(inspect.signature(getattr(KnownCases, method)).parameters)
        assert list(inspect.signature(getattr(StoreKnownCases, method)).parameters) == wanted

    from resdesk.intake.correlate import correlate
    from resdesk.intake.message import parse_message

    known = _two_cases(store, oldham)
    reply = parse_message(
        b"From: k@nhs.example\r\nTo: inbox@partnership.example\r\nSubject: RE: Acknowledged\r\n"
        b"Message-ID: <reply-9@nhs.example>\r\nIn-Reply-To: <ack-1@resdesk.example>\r\n\r\nThanks.\r\n"
    )
    found = correlate(reply, known)
    assert (found.case, found.method) == ("OLD-2026-0002", "thread")
