"""Single values read the way agencies type them (forms.values)."""

from __future__ import annotations

from datetime import date

import pytest

from resdesk.forms import values


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("03/04/2015", date(2015, 4, 3)),
        ("3/4/2015", date(2015, 4, 3)),
        ("3.4.15", date(2015, 4, 3)),
        ("03-04-2015", date(2015, 4, 3)),
        ("3 April 2015", date(2015, 4, 3)),
        ("3rd April 2015", date(2015, 4, 3)),
        ("3 Apr 2015", date(2015, 4, 3)),
        ("Friday 3rd of April, 2015", date(2015, 4, 3)),
        ("April 3, 2015", date(2015, 4, 3)),
        ("2015-04-03", date(2015, 4, 3)),
        ("30.11.98", date(1998, 11, 30)),
        ("", None),
        ("  ", None),
    ],
)
def test_uk_dates(typed, expected):
    """GIVEN a date typed UK-style WHEN it is read THEN day comes before month (03/04 is 3 April)."""
    assert values.uk_date(typed) == expected


@pytest.mark.parametrize(
    "typed, reason",
    [
        ("04/23/2015", "there is no month 23"),
        ("31/02/2015", "not a real date"),
        ("next Tuesday", "is not a date"),
        ("3 Smarch 2015", "names no month"),
    ],
)
def test_dates_that_cannot_be_uk_dates_are_errors(typed, reason):
    """GIVEN a US-style or impossible date WHEN it is read THEN the error says why."""
    with pytest.raises(ValueError, match=reason):
        values.uk_date(typed)


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("943 476 5919", "9434765919"),
        ("943-476-5919", "9434765919"),
        ("9434765919", "9434765919"),
        ("NHS: 401 023 2137", "4010232137"),
        ("PID 88213", "PID 88213"),
        ("LA-2231-X", "LA-2231-X"),
        ("", None),
    ],
)
def test_child_identifiers(typed, expected):
    """GIVEN an identifier WHEN read THEN NHS numbers are normalised and local IDs kept as typed."""
    assert values.child_identifier(typed) == expected


@pytest.mark.parametrize("typed", ["943 476 5918", "1234567890", "NHS 12345", "0000000001"])
def test_nhs_numbers_failing_modulus_11_are_errors(typed):
    """GIVEN ten digits (or text marked NHS) with a wrong check digit WHEN read THEN it is an error, never kept."""
    with pytest.raises(ValueError, match="not a valid NHS number"):
        values.child_identifier(typed)


def test_modulus_11_rejects_check_value_ten():
    """GIVEN nine digits whose Modulus 11 check value is 10 WHEN checked THEN no tenth digit makes it valid."""
    assert not any(values.nhs_check_digit_ok(f"000000006{d}") for d in "0123456789")
    assert values.nhs_check_digit_ok("9434765919")


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("Universal Services", "universal"),
        ("Early Help", "early-help"),
        ("Child in Need (S17)", "child-in-need"),
        ("child protection (s47)", "child-protection"),
        ("CLA", "child-in-care"),
        ("care-leaver", "care-leaver"),
    ],
)
def test_levels_of_need(typed, expected):
    """GIVEN the seed's wording of a level of need WHEN read THEN it is one of the six choices."""
    assert values.level_of_need(typed) == expected


def test_unknown_level_of_need_lists_the_choices():
    with pytest.raises(ValueError, match="universal, early-help"):
        values.level_of_need("Tier 3")


@pytest.mark.parametrize(
    "typed, expected",
    [("Yes", True), ("y", True), ("☒", True), ("No", False), ("N", False), ("", None), (None, None)],
)
def test_yes_no(typed, expected):
    assert values.yes_no(typed) is expected


def test_yes_no_refuses_anything_else():
    with pytest.raises(ValueError, match="not Yes or No"):
        values.yes_no("Partly")


def test_email_is_checked_for_syntax_only():
    """GIVEN an address at a domain that does not exist WHEN read THEN its syntax alone decides (no network)."""
    assert values.email_address("a.person@no-such-domain.example") == "a.person@no-such-domain.example"
    with pytest.raises(ValueError, match="not an e-mail address"):
        values.email_address("a.person@")


@pytest.mark.parametrize("typed, expected", [("2", 2), ("Stage 2", 2), ("Level two", 2), (3, 3)])
def test_stage_numbers(typed, expected):
    assert values.stage_number(typed) == expected


def test_placeholders_and_underlines_are_blank():
    """GIVEN a box left showing Word's placeholder or a line of underscores THEN it counts as empty."""
    assert values.blank("Click or tap here to enter text.")
    assert values.blank("________")
    assert not values.blank("0")


@pytest.mark.parametrize(
    "typed, reason",
    [
        ("0000000000", "one repeated digit"),
        ("000 000 0000", "one repeated digit"),
        ("5555555555", "one repeated digit"),
        ("NHS 0000000000", "one repeated digit"),
        ("0000000019", "outside the ranges"),  # passes Modulus 11, never issued
        ("5000000005", "outside the ranges"),  # the reserved range
    ],
)
def test_nhs_numbers_outside_what_is_issued_are_errors(typed, reason):
    """GIVEN ten digits that pass Modulus 11 but could never be a child's NHS number
    WHEN read THEN it is an error saying why, never a number two children could share."""
    with pytest.raises(ValueError, match=reason):
        values.child_identifier(typed)


@pytest.mark.parametrize(
    "typed, kind, label",
    [
        ("943 476 5919", "nhs", "943 476 5919 (NHS number)"),
        ("12345678901", "local", "12345678901 (local identifier)"),  # eleven digits
        ("94347659l9", "local", "94347659l9 (local identifier)"),  # a letter among the digits
        ("PID 88213", "local", "PID 88213 (local identifier)"),
    ],
)
def test_anything_but_an_nhs_number_is_a_labelled_local_identifier(typed, kind, label):
    """GIVEN an 11-digit number, digits with a letter, or a PID WHEN read THEN it is kept as typed
    and labelled a local identifier; a valid NHS number is labelled as one."""
    kept = values.child_identifier(typed)
    assert values.identifier_kind(kept) == kind
    assert values.identifier_label(kept) == label


def test_a_date_of_birth_in_the_future_is_refused():
    """GIVEN a date of birth after today WHEN read THEN it is an error; today's own date is accepted."""
    today = date(2026, 12, 14)
    with pytest.raises(ValueError, match="in the future"):
        values.child_dob("15/12/2026", today)
    assert values.child_dob("14/12/2026", today) == today
    assert values.age_on(date(2000, 12, 15), today) == 25


@pytest.mark.parametrize(
    "typed, kept",
    [
        ("Amy \u202eHTIMS\u202c Smith", "Amy HTIMS Smith"),  # right-to-left override
        ("\u2066Ben\u2069 \u200fJones\u200e", "Ben Jones"),  # isolates and marks
        ("Zo\u00eb\u061c Adeyemi\u0085", "Zo\u00eb Adeyemi"),  # Arabic letter mark, NEL
        ("Line one\nline\ttwo", "Line one\nline\ttwo"),
    ],
)
def test_bidirectional_and_control_characters_are_removed_from_names(typed, kept):
    """GIVEN a name holding right-to-left overrides, isolates, marks or a C1 control WHEN it is read into a
    record THEN those invisible characters are gone and the letters stay, in order; line ends and tabs stay."""
    from resdesk.forms.records import ResolutionNotice

    assert values.without_controls(typed) == kept
    assert ResolutionNotice.model_validate({"child_name": typed}).child_name == kept
