"""Areas of disagreement and agencies: case facts read from labelled lines (protocols.areas, intake.facts)."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from resdesk.errors import UsageError
from resdesk.intake.facts import read_facts
from resdesk.protocols import AREAS, normalise_area
from resdesk.protocols.facts import definition, parse_value


def _stated(body: str) -> dict[str, object]:
    readings, _ = read_facts(body)
    return {r.name: r.value for r in readings}


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
    """GIVEN a labelled line in a seed's wording or a common variant WHEN read THEN the area is the
    case fact stated."""
    assert _stated(f"Dear all,\n\n{line}\nOutcome: escalated\n")["area_of_disagreement"] == area


def test_prose_quoted_mail_and_two_answers_are_never_guessed():
    """GIVEN an area only mentioned in prose, only in quoted mail, two different labelled areas, or an
    unknown area WHEN read THEN no area is stated; the unreadable and disagreeing lines are returned for
    a person to settle."""
    assert "area_of_disagreement" not in _stated("We disagree about thresholds for the referral.")
    assert "area_of_disagreement" not in _stated("> Area of disagreement: Thresholds\nThanks")
    for body in ("Area of disagreement: Thresholds\nArea of disagreement: Plans",
                 "Area of disagreement: thresholds and plans", "Area of disagreement: housing"):
        readings, mentions = read_facts(body)
        assert readings == [] and [m.name for m in mentions] == ["area_of_disagreement"], body


def test_every_area_reads_back_from_its_own_wording():
    """GIVEN each area's printed wording WHEN normalised or typed on a line THEN it is that area."""
    for slug, wording in AREAS.items():
        assert normalise_area(wording) == slug
        assert _stated(f"Area of disagreement: {wording}") == {"area_of_disagreement": slug}


def test_a_person_sets_only_an_area_of_the_seeds():
    """GIVEN the area fact WHEN a person types a variant or something outside the seeds' list THEN the
    variant is the area, and anything else is refused naming the areas."""
    area = definition("area-of-disagreement")
    assert parse_value(area, "Drift & delay") == "drift-and-delay"
    with pytest.raises(UsageError, match="Thresholds, Roles and responsibilities"):
        parse_value(area, "housing")


def test_raising_and_responding_agencies():
    """GIVEN labelled agency lines (``Receiving agency`` meaning the responding one) WHEN read THEN both
    are kept as written; an unlabelled signature is not read."""
    body = "Raising agency: Greater Manchester Police\r\nReceiving agency:  Oldham Children's Social Care \r\n"
    assert _stated(body) == {"raising_agency": "Greater Manchester Police",
                             "responding_agency": "Oldham Children's Social Care"}
    assert _stated("Regards,\nDana\nGreater Manchester Police") == {}


@given(st.text(max_size=200))
def test_never_crashes(text):
    """GIVEN any text WHEN read THEN an area of the vocabulary if any, and agencies of at most 200 characters."""
    stated = _stated(text)
    assert stated.get("area_of_disagreement") in (None, *AREAS)
    assert all(len(stated[name]) <= 200 for name in ("raising_agency", "responding_agency") if name in stated)


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
