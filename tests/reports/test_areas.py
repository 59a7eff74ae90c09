"""Areas of disagreement and agencies read from labelled lines (protocols.areas)."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from resdesk.protocols import AREAS, agencies_from_text, area_from_text, normalise_area


@pytest.mark.parametrize(
    ("line", "area"),
    [
        ("Area of disagreement: Thresholds", "thresholds"),
        ("Areas of disagreement: thresholds/eligibility", "thresholds"),
        ("Area(s) of disagreement: Roles & responsibilities", "roles-and-responsibilities"),
        ("**Area of disagreement:** Action/inaction", "action-or-inaction"),
        ("AREA OF DISAGREEMENT: PLANS.", "plans"),
        ("Area of professional disagreement: sharing of information", "information-sharing"),
        ("Type of disagreement: Provision of services", "provision-of-services"),
        ("Area of disagreement: Drift or unreasonable delay", "drift-and-delay"),
        ("Area of disagreement: CP conference", "child-protection-conference"),
        ("Area of disagreement: Child-protection conference decisions", "child-protection-conference"),
    ],
)
def test_the_seeds_wording_and_common_variants(line, area):
    """GIVEN a labelled line in a seed's wording or a common variant WHEN read THEN the area is recorded."""
    assert area_from_text(f"Dear all,\n\n{line}\nOutcome: escalated\n") == area


def test_prose_quoted_mail_and_two_answers_are_never_guessed():
    """GIVEN an area only mentioned in prose, only in quoted mail, two different labelled areas, or an
    unknown area WHEN read THEN nothing is recorded."""
    assert area_from_text("We disagree about thresholds for the referral.") is None
    assert area_from_text("> Area of disagreement: Thresholds\nThanks") is None
    assert area_from_text("Area of disagreement: Thresholds\nArea of disagreement: Plans") is None
    assert area_from_text("Area of disagreement: thresholds and plans") is None
    assert area_from_text("Area of disagreement: housing") is None


def test_every_area_reads_back_from_its_own_wording():
    """GIVEN each area's printed wording WHEN normalised THEN it is that area."""
    for slug, wording in AREAS.items():
        assert normalise_area(wording) == slug
        assert area_from_text(f"Area of disagreement: {wording}") == slug


def test_raising_and_responding_agencies():
    """GIVEN labelled agency lines (``Receiving agency`` meaning the responding one) WHEN read THEN both
    are kept as written; an unlabelled signature is not read."""
    body = "Raising agency: Greater Manchester Police\r\nReceiving agency:  Oldham Children's Social Care \r\n"
    assert agencies_from_text(body) == ("Greater Manchester Police", "Oldham Children's Social Care")
    assert agencies_from_text("Regards,\nDana\nGreater Manchester Police") == (None, None)


@given(st.text(max_size=200))
def test_never_crashes(text):
    """GIVEN any text WHEN read THEN an area of the vocabulary or None."""
    assert area_from_text(text) in (None, *AREAS)
    raising, responding = agencies_from_text(text)
    assert raising is None or len(raising) <= 200


def test_every_area_cites_seed_words_that_are_in_the_seed():
    """GIVEN each area's cited seed passages WHEN the shipped seed texts are searched THEN every quotation
    is found (whitespace aside), and every area cites at least one."""
    from pathlib import Path

    from resdesk.protocols.areas import AREA_SOURCES

    seeds = Path(__file__).resolve().parents[2] / "protocols" / "seeds"
    assert set(AREA_SOURCES) == set(AREAS)
    for area, sources in AREA_SOURCES.items():
        assert sources, area
        for filename, _section, words in sources:
            text = " ".join((seeds / filename).read_text(encoding="utf-8").split())
            assert " ".join(words.split()) in text, (area, filename, words)
