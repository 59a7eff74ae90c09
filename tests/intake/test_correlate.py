"""Correlation: the reference token, then the thread, then the child; otherwise a new case."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from typing import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resdesk.intake.correlate import (
    Correlation,
    KnownCases,
    correlate,
    find_reference,
    find_references,
    format_reference,
    normalise_identifier,
    reference_token,
)
from resdesk.intake.message import InboundMessage, parse_message


@dataclass
class InMemoryCases:
    """A fake of our own ``KnownCases`` interface, answering from dicts and recording questions."""

    references: set[str] = field(default_factory=set)
    message_ids: dict[str, str] = field(default_factory=dict)
    children: list[tuple[str | None, str | None, date | None, set[str], str]] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)

    def case_for_reference(self, reference: str) -> str | None:
        self.asked.append(f"reference {reference}")
        return reference if reference in self.references else None

    def case_for_message_ids(self, message_ids: Sequence[str]) -> str | None:
        self.asked.append(f"thread {list(message_ids)}")
        for message_id in message_ids:
            if message_id in self.message_ids:
                return self.message_ids[message_id]
        return None

    def case_for_child(self, identifier: str | None, name: str | None, dob: date | None,
                       agencies: Sequence[str]) -> str | None:
        self.asked.append(f"child {identifier} {name} {dob} {sorted(agencies)}")
        for known_id, known_name, known_dob, known_agencies, case in self.children:
            if identifier and identifier == known_id:
                return case
            if not identifier and name == known_name and dob == known_dob and known_agencies & set(agencies):
                return case
        return None


def _known() -> InMemoryCases:
    return InMemoryCases(
        references={"OLD-2026-0007", "OLD-2026-0008"},
        message_ids={"<ack-7@partnership.example>": "OLD-2026-0007", "<first-8@school.example>": "OLD-2026-0008"},
        children=[("9434765919", "A Child", date(2015, 4, 3), {"Oldham Council"}, "OLD-2026-0009"),
                  (None, "B Child", date(2016, 5, 6), {"Greater Manchester Police"}, "OLD-2026-0010")],
    )


def _mail(subject: str, **headers: str) -> InboundMessage:
    mail = EmailMessage()
    mail["From"] = "jo@school.example"
    mail["Subject"] = subject
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content("text\n")
    return parse_message(mail.as_bytes())


def test_the_interface_is_a_protocol_the_fake_satisfies():
    """GIVEN the in-memory fake
    WHEN it is used where KnownCases is expected
    THEN it has exactly the interface's three questions."""
    known: KnownCases = _known()
    assert {n for n in dir(KnownCases) if n.startswith("case_for")} == {
        "case_for_reference", "case_for_message_ids", "case_for_child"}
    assert known.case_for_reference("OLD-2026-0007") == "OLD-2026-0007"


# --- the reference token ------------------------------------------------------------------


def test_format_reference_pads_to_four_digits_and_grows_beyond():
    """GIVEN a prefix, year and number
    WHEN a reference is formatted
    THEN it is PREFIX-YEAR-NNNN, wider when the number needs it, and the token is bracketed."""
    assert format_reference("OLD", 2026, 7) == "OLD-2026-0007"
    assert format_reference("HAR", 2026, 12345) == "HAR-2026-12345"
    assert reference_token("OLD-2026-0007") == "[OLD-2026-0007]"


@pytest.mark.parametrize("prefix, year, number", [("O", 2026, 1), ("OLDHAM", 2026, 1), ("old", 2026, 1),
                                                  ("OLD", 1999, 1), ("OLD", 2026, 0), ("OL1", 2026, 1)])
def test_format_reference_refuses_what_it_could_not_read_back(prefix, year, number):
    """GIVEN a prefix, year or number outside the reference format
    WHEN it is formatted
    THEN it is refused rather than producing a token that would not be found again."""
    with pytest.raises(ValueError):
        format_reference(prefix, year, number)


@pytest.mark.parametrize(
    "subject, expected",
    [
        ("RE: Acknowledgement [OLD-2026-0007]", "OLD-2026-0007"),
        ("[OLD-2026-0007] stage 2 due 29 December", "OLD-2026-0007"),
        ("RE: [ old-2026-0007 ] thanks", "OLD-2026-0007"),
        ("RE: OLD-2026-0007 thanks", "OLD-2026-0007"),
        ("Ref:OLD-2026-0007.", "OLD-2026-0007"),
        ("RE: (SW-2026-00012) thanks", "SW-2026-00012"),
        ("[GLOS-2027-0001]", "GLOS-2027-0001"),
        ("old-2026-0007 lower case without brackets", None),
        ("ISO-9001-2015 certificate", None),
        ("Part ABC-2026-12 is short", None),
        ("XOLD-2026-0007Y glued", None),
        ("OLD-2026-0007-2 extended", None),
        ("[TOOLONG-2026-0007]", None),
        ("no reference here", None),
    ],
)
def test_find_reference(subject, expected):
    """GIVEN a subject with or without a reference
    WHEN the reference is looked for
    THEN bracketed tokens are found in any case, bare ones only in the exact form."""
    assert find_reference(subject) == expected


def test_bracketed_references_come_before_bare_ones():
    """GIVEN a subject with a bare reference before a bracketed one
    WHEN all references are listed
    THEN the bracketed one (the product's own token) is first."""
    assert find_references("About OLD-2026-0001, see [OLD-2026-0002]") == ["OLD-2026-0002", "OLD-2026-0001"]


@given(prefix=st.from_regex(r"[A-Z]{2,5}", fullmatch=True), year=st.integers(2000, 2099),
       number=st.integers(1, 999_999_999), before=st.sampled_from(["", "RE: ", "FW: Ack ", "x "]),
       after=st.sampled_from(["", " stage 2", ": thanks", "."]))
def test_reference_round_trip(prefix, year, number, before, after):
    """GIVEN any valid reference put in a subject as the product writes it
    WHEN the subject is searched
    THEN the same reference comes back."""
    reference = format_reference(prefix, year, number)
    assert find_reference(f"{before}{reference_token(reference)}{after}") == reference


# --- the order of correlation -------------------------------------------------------------


def test_reference_token_decides_first():
    """GIVEN a reply whose subject names case 7 but whose thread belongs to case 8
    WHEN it is correlated
    THEN the token wins and the thread is never asked about."""
    known = _known()
    msg = _mail("RE: [OLD-2026-0007] Stage 2", In_Reply_To="<first-8@school.example>")
    result = correlate(msg, known)
    assert (result.case, result.method) == ("OLD-2026-0007", "reference")
    assert known.asked == ["reference OLD-2026-0007"]


def test_unknown_reference_falls_through_to_the_thread_with_a_note():
    """GIVEN a subject naming a reference the case file does not hold, in a known thread
    WHEN it is correlated
    THEN the thread decides and the unknown reference is noted for a person."""
    msg = _mail("RE: [OLD-2026-0999] Stage 2", In_Reply_To="<ack-7@partnership.example>")
    result = correlate(msg, _known())
    assert (result.case, result.method) == ("OLD-2026-0007", "thread")
    assert result.notes == ("the reference OLD-2026-0999 is not a known case",)


def test_thread_is_in_reply_to_first_then_references_newest_first():
    """GIVEN In-Reply-To naming an unknown message and References naming two known ones
    WHEN it is correlated
    THEN the ids are asked in order In-Reply-To, newest reference, older reference."""
    known = _known()
    msg = _mail("Re: our call", In_Reply_To="<unknown@x.example>",
                References="<first-8@school.example> <ack-7@partnership.example> <unknown@x.example>")
    result = correlate(msg, known)
    assert known.asked == ["thread ['<unknown@x.example>', '<ack-7@partnership.example>', '<first-8@school.example>']"]
    assert (result.case, result.method) == ("OLD-2026-0007", "thread")


def test_references_alone_find_the_case():
    """GIVEN a message with only a References header (some clients drop In-Reply-To)
    WHEN it is correlated
    THEN the case is found by the thread."""
    result = correlate(_mail("Re: x", References="<first-8@school.example>"), _known())
    assert (result.case, result.method) == ("OLD-2026-0008", "thread")


@pytest.mark.parametrize("identifier", ["943 476 5919", "943-476-5919", "9434765919"])
def test_child_identifier_from_a_form_finds_the_case(identifier):
    """GIVEN a new message (no token, no thread) whose form gives the child's NHS number,
    written with spaces or dashes
    WHEN it is correlated with the form's fields
    THEN the case is found by the child, the number compared as its ten digits."""
    fields = {"child_identifier": identifier, "child_name": "A Child", "child_dob": date(2015, 4, 3),
              "raised_by_agency": "Oldham Council"}
    known = _known()
    result = correlate(_mail("Resolution Notice"), known, fields)
    assert (result.case, result.method) == ("OLD-2026-0009", "child")
    assert known.asked[-1] == "child 9434765919 A Child 2015-04-03 ['Oldham Council']"


def test_child_name_and_date_of_birth_with_an_agency_find_the_case():
    """GIVEN a form without an identifier but with name, ISO date of birth and agency
    WHEN it is correlated
    THEN the case is found by name and date of birth."""
    fields = {"child_name": "B Child", "child_dob": "2016-05-06", "raised_by_role_agency": "Greater Manchester Police"}
    result = correlate(_mail("Escalation concern"), _known(), fields)
    assert (result.case, result.method) == ("OLD-2026-0010", "child")
    assert "name and date of birth" in result.detail


def test_a_name_alone_is_not_enough():
    """GIVEN a form with only the child's name
    WHEN it is correlated
    THEN the case file is not asked about the child and a new case results."""
    known = _known()
    result = correlate(_mail("Escalation concern"), known, {"child_name": "B Child"})
    assert result == Correlation(None, "new", "no reference, thread or child matches a known case")
    assert not any(q.startswith("child") for q in known.asked)
    assert result.is_new


def test_nothing_known_means_a_new_case():
    """GIVEN a first stage 1 summary with no token, no thread and no form
    WHEN it is correlated
    THEN a new case is to be opened."""
    result = correlate(_mail("Escalation & Resolution Protocol: Stage 1 Summary"), _known())
    assert (result.case, result.method, result.is_new) == (None, "new", True)


def test_our_case_header_kept_by_a_reply_names_the_case():
    """GIVEN a message with no token in the subject but our X-Resdesk-Case header kept
    WHEN it is correlated
    THEN the header's reference is used."""
    result = correlate(_mail("Re: thanks", X_Resdesk_Case="OLD-2026-0008"), _known())
    assert (result.case, result.method) == ("OLD-2026-0008", "reference")


def test_case_ref_field_of_a_stage_summary_form_names_the_case():
    """GIVEN a new message with no token or thread, whose stage-summary form gives case_ref
    WHEN it is correlated with the form's fields
    THEN the form's reference finds the case before the child is considered."""
    known = _known()
    fields = {"case_ref": "old-2026-0008", "child_identifier": "9434765919"}
    result = correlate(_mail("Escalation & Resolution Protocol: Stage 2 Summary"), known, fields)
    assert (result.case, result.method) == ("OLD-2026-0008", "reference")
    assert not any(q.startswith("child") for q in known.asked)


def test_normalise_identifier():
    """GIVEN identifiers as people type them
    WHEN normalised
    THEN spaces and dashes go and letters are upper case; blanks are None."""
    assert normalise_identifier(" 943 476-5919 ") == "9434765919"
    assert normalise_identifier("pid 0042") == "PID0042"
    assert normalise_identifier("  ") is None
    assert normalise_identifier(None) is None
