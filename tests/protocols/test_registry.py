"""The registry holds exactly the shipped definitions, each valid, and refuses malformed files clearly."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from resdesk.protocols import Registry, load_file
from resdesk.protocols.registry import DEFINITIONS
from resdesk.protocols.schema import NoticeKind
from resdesk.errors import DefinitionError, UnknownProtocol, UnknownStage

SHIPPED = {"oldham", "haringey", "gloucestershire", "sandwell", "lscp-lsab"}
SEEDS = DEFINITIONS.parent / "seeds"


def test_every_definition_file_is_registered_and_nothing_else():
    """GIVEN the definitions folder WHEN the registry loads THEN each file is one protocol, by its name."""
    files = {p.stem for p in DEFINITIONS.glob("*.toml")}
    registry = Registry.from_dirs()
    assert files == SHIPPED
    assert set(registry.ids()) == SHIPPED


@pytest.mark.parametrize("protocol_id", sorted(SHIPPED))
def test_definition_cites_its_seed_for_every_rule(protocol_id):
    """GIVEN a shipped definition THEN it names its seed document, and every stage rule and notice cites a source."""
    protocol = load_file(DEFINITIONS / f"{protocol_id}.toml")
    assert (SEEDS / protocol.source_document).name == protocol.source_document
    for stage in protocol.stages:
        assert stage.sources["timescale"]
        assert stage.sources["involved"]
        if stage.cumulative_working_days is not None:
            assert stage.sources["cumulative"]
        for notification in stage.notify:
            assert len(notification.source) > 10
        for deadline in stage.deadlines:
            assert len(deadline.source) > 10


def _normalise(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u2013", "-").replace("\u2014", "-")
    return re.sub(r"[\s*]+", " ", text).strip().lower()


def _quotations(source: str) -> list[str]:
    """The quoted fragments of a source citation, split at the ellipses that join them."""
    fragments = []
    for quoted in re.findall(r"'((?:[^']|'(?=[a-z]))+)'", source):
        fragments.extend(part.strip(" .") for part in quoted.split("..."))
    return [f for f in fragments if len(f) >= 12]


@pytest.mark.parametrize("protocol", list(Registry.from_dirs()), ids=lambda p: p.id)
def test_every_quotation_is_in_the_seed(protocol):
    """GIVEN a definition's source citations THEN every quoted fragment is found word for word in its seed text."""
    seed = _normalise((SEEDS / protocol.source_document).read_text(encoding="utf-8"))
    citations = [src for stage in protocol.stages for src in stage.sources.values()]
    citations += [n.source for stage in protocol.stages for n in stage.notify]
    citations += [d.source for stage in protocol.stages for d in stage.deadlines]
    checked = 0
    for citation in citations:
        for fragment in _quotations(citation):
            assert _normalise(fragment) in seed, f"not in {protocol.source_document}: {fragment!r}"
            checked += 1
    assert checked >= len(protocol.stages), "too few quotations to tie the definition to its seed"


def test_oldham_rules_from_the_seed():
    """GIVEN Oldham THEN stage 3 entry notifies the partnership group and stage 4 needs the Resolution Notice."""
    oldham = Registry.from_dirs().get("oldham")
    assert oldham.stage_numbers == [0, 1, 2, 3, 4]
    assert [s.cumulative_working_days for s in oldham.stages] == [None, 7, 9, 11, 15]
    assert oldham.stage(2).summary_subject == "Escalation & Resolution Protocol: Stage 2 Summary"
    (stage3_notice,) = oldham.stage(3).notify
    assert stage3_notice.notice is NoticeKind.STAGE_3_NOTIFICATION
    assert stage3_notice.published_address == "OSCP.group@oldham.gov.uk"
    assert stage3_notice.contact == "business_unit"
    assert oldham.stage(4).forms == ["resolution-notice"]
    assert oldham.stage(4).notify[0].notice is NoticeKind.RESOLUTION_NOTICE


def test_sandwell_rules_from_the_seed():
    """GIVEN Sandwell THEN the template goes to the business unit from stage 2, the IRO is conditional, and the
    Director for Quality and Review is told before stage 3 for the Children's Trust."""
    sandwell = Registry.from_dirs().get("sandwell")
    assert [s.cumulative_working_days for s in sandwell.stages] == [None, 3, 8, 13, 20]
    assert sandwell.stage(0).timescale.hours == 24
    iro = sandwell.stage(1).notify[0]
    assert (iro.notice.value, iro.condition.value) == ("iro-notification", "child-protection-plan-or-looked-after")
    for number in (2, 3, 4):
        kinds = [n.notice.value for n in sandwell.stage(number).notify]
        assert "escalation-template" in kinds
        assert "escalation-concern" in sandwell.stage(number).forms
    director = [n for n in sandwell.stage(3).notify if n.notice.value == "director-notification"][0]
    assert (director.when, director.condition.value) == ("before-entry", "childrens-trust-involved")


def test_gloucestershire_and_lscp_rules_from_the_seed():
    """GIVEN Gloucestershire and LSCP/LSAB THEN the business unit, MASH and urgent/non-urgent step 4 rules hold."""
    registry = Registry.from_dirs()
    glos = registry.get("gloucestershire")
    assert glos.stage(1).timescale.hours == 24
    assert glos.stage(2).notify[0].condition.value == "threshold-dispute"
    assert glos.stage(3).notify[0].recipient == "GSCP Business Unit"
    assert glos.stage(4).notify[0].notice.value == "stage-4-referral"
    lscp = registry.get("lscp-lsab")
    assert lscp.stage(4).variant == "urgent"
    # Step 4 urgent: 'take place ASAP with a date set within 24 hours of step 3' -- the 24 hours
    # set the date, the meeting itself is ASAP (no fixed time).
    assert lscp.stage(4, "urgent").timescale.basis == "no fixed timescale"
    (date_set,) = lscp.stage(4, "urgent").deadlines
    assert (date_set.name, date_set.counts_from, date_set.timescale.hours) == ("meeting-date-set", "stage-start", 24)
    assert lscp.stage(4, "non-urgent").timescale.basis == "no fixed timescale"
    # The review group referral: for a non-urgent case always, for an urgent one when lessons are learned.
    assert [(n.contact, n.condition) for n in lscp.stage(4, "non-urgent").notify] == [("review_group", None)]
    assert [(n.contact, n.condition.value if n.condition else None) for n in lscp.stage(4, "urgent").notify] == [
        ("independent_chair", None), ("review_group", "lessons-learned")]
    # Stage Three: escalate to stage four no later than one working day after stage three's five.
    (escalate,) = glos.stage(3).deadlines
    assert (escalate.counts_from, escalate.timescale.working_days, escalate.met_by_stage_end) == ("stage-due", 1, True)
    haringey = registry.get("haringey")
    assert {s.timescale.basis for s in haringey.stages} == {"no fixed timescale"}
    # §6: the conference request comes after stage 1 (on entry to stage 2), only when the agency asks.
    (request,) = haringey.stage(2).notify
    assert (request.notice.value, request.contact, request.condition.value) == (
        "conference-request", "childrens_social_care", "conference-requested")


def test_sandwell_and_oldham_deadlines_after_resolution_from_the_seed():
    """GIVEN Sandwell and Oldham THEN the outcome letters 'within a further 2 working days', Sandwell's
    outcome and learning 'within one month' (a calendar month) and the imminent-risk referral the same
    working day are deadlines of the stages the seeds attach them to."""
    registry = Registry.from_dirs()
    sandwell, oldham = registry.get("sandwell"), registry.get("oldham")
    for number in (1, 2, 3):
        letter = next(d for d in sandwell.stage(number).deadlines if d.name == "outcome-letter")
        assert (letter.counts_from, letter.timescale.working_days) == ("resolution", 2)
        assert "outcome-letter" in {n.notice.value for n in sandwell.stage(number).notify if n.when == "on-resolution"}
    (month,) = sandwell.stage(4).deadlines
    assert (month.counts_from, month.timescale.calendar_months, month.timescale.basis) == (
        "resolution", 1, "1 calendar month")
    imminent = next(d for d in sandwell.stage(1).deadlines if d.name == "imminent-risk-referral")
    assert (imminent.condition.value, imminent.timescale.basis) == ("imminent-risk", "same working day")
    (early,) = oldham.stage(0).deadlines
    assert (early.counts_from, early.timescale.working_days) == ("resolution", 2)


def test_unknown_protocol_and_stage_name_the_choices():
    """GIVEN the registry WHEN asked for what is not there THEN the error lists what is."""
    registry = Registry.from_dirs()
    with pytest.raises(UnknownProtocol, match="known protocols are gloucestershire, haringey"):
        registry.get("leeds")
    with pytest.raises(UnknownStage, match="stages are 1, 2"):
        registry.get("haringey").stage(0)


GOOD = textwrap.dedent(
    """
    id = "{id}"
    name = "Example Partnership"
    title = "Escalation Protocol"
    version = "1"
    source_document = "example.pdf"
    nation = "wales"
    reference_prefix = "EXA"
    case_start = "stage 1"
    cumulative_from_stage = 1

    [[stages]]
    number = 1
    name = "Managers"
    involved = ["Managers"]
    timescale = {{ {timescale} }}
    [stages.sources]
    involved = "§1"
    timescale = "§1"
    """
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "defs"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_sixth_partnership_is_one_file(tmp_path):
    """GIVEN a folder with one more definition WHEN loaded beside the shipped ones THEN it is a sixth protocol."""
    write(tmp_path, "example", GOOD.format(id="example", timescale="working_days = 3"))
    registry = Registry.from_dirs(tmp_path / "defs")
    assert len(registry) == 6
    assert registry.get("example").nation.subdivision == "WLS"


@pytest.mark.parametrize(
    "text, key, reason",
    [
        (GOOD.format(id="bad", timescale="working_days = 3, hours = 4"), "stages[0].timescale", "exactly one"),
        (GOOD.format(id="bad", timescale=""), "stages[0].timescale", "exactly one"),
        (GOOD.format(id="bad", timescale="working_days = -1"), "stages[0].timescale.working_days", "greater than or equal"),
        (GOOD.format(id="bad", timescale="fortnights = 1"), "stages[0].timescale.fortnights", "Extra inputs"),
        (GOOD.format(id="bad", timescale="working_days = 2").replace('nation = "wales"', 'nation = "mars"'), "nation", "england"),
        (GOOD.format(id="bad", timescale="working_days = 2").replace('timescale = "§1"', ""), "stages[0]", "no seed source given for timescale"),
        (GOOD.format(id="other", timescale="working_days = 2"), "id", "must match the file name"),
        ("id = [", "", "not valid TOML"),
    ],
)
def test_malformed_definition_names_file_key_and_reason(tmp_path, text, key, reason):
    """GIVEN a malformed definition WHEN loaded THEN the error names the file, the key and the reason."""
    path = write(tmp_path, "bad", text)
    with pytest.raises(DefinitionError) as caught:
        load_file(path)
    error = caught.value
    assert error.path == str(path)
    assert error.key == key
    assert reason in error.reason
    assert str(path) in str(error)
