"""The shape of a protocol definition file, validated on load.

A definition is data, written in a small vocabulary: a stage's timescale is one
of ``working_days = N``, ``hours = N``, ``same_day = true`` or
``no_fixed_timescale = "the seed's words"``. Every rule carries the seed section
it comes from, so that a reader can check it against the published protocol.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from resdesk.protocols.facts import Condition

NO_FIXED_TIMESCALE = "no fixed timescale"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Nation(str, Enum):
    """The UK nations, whose bank holidays differ."""

    ENGLAND = "england"
    WALES = "wales"
    SCOTLAND = "scotland"
    NORTHERN_IRELAND = "northern-ireland"

    @property
    def subdivision(self) -> str:
        """The ``holidays`` package's subdivision code for the nation."""
        return {"england": "ENG", "wales": "WLS", "scotland": "SCT", "northern-ireland": "NIR"}[
            self.value
        ]


class Timescale(_Strict):
    """How long a stage (or a deadline) may take, in exactly one of six named forms.

    Where a seed gives both hours and working days ("48 hours (2 working days)"),
    the definition records the working days (PRODUCT §4). ``same_working_day`` is
    the end of T's date if it is a working day, else of the next one. ``calendar_months`` is a calendar month, not working days (Sandwell's
    "within one month"): the end of the local day with the same day-of-month N months
    on (the month's last day when it has no such day, e.g. 31 Jan -> 28 Feb).
    """

    working_days: int | None = Field(default=None, ge=0, le=365)
    hours: int | None = Field(default=None, gt=0, le=24 * 365)
    same_day: bool | None = None
    same_working_day: bool | None = None
    calendar_months: int | None = Field(default=None, ge=1, le=12)
    no_fixed_timescale: str | None = Field(
        default=None, description="The seed's own words, e.g. 'without delay'."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> "Timescale":
        values = {
            "working_days": self.working_days is not None,
            "hours": self.hours is not None,
            "same_day": bool(self.same_day),
            "same_working_day": bool(self.same_working_day),
            "calendar_months": self.calendar_months is not None,
            "no_fixed_timescale": self.no_fixed_timescale is not None,
        }
        given = [name for name, present in values.items() if present]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of working_days, hours, same_day, same_working_day, calendar_months or no_fixed_timescale"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self

    @property
    def basis(self) -> str:
        """The rule in words, as the command line prints it."""
        if self.working_days is not None:
            unit = "working day" if self.working_days == 1 else "working days"
            return f"{self.working_days} {unit}"
        if self.hours is not None:
            return f"{self.hours} hour" + ("" if self.hours == 1 else "s")
        if self.same_day:
            return "same day"
        if self.same_working_day:
            return "same working day"
        if self.calendar_months is not None:
            return f"{self.calendar_months} calendar month" + ("" if self.calendar_months == 1 else "s")
        return NO_FIXED_TIMESCALE


class NoticeKind(str, Enum):
    """The notices a protocol can require; each is a document the product renders."""

    STAGE_3_NOTIFICATION = "stage-3-notification"
    RESOLUTION_NOTICE = "resolution-notice"
    ESCALATION_TEMPLATE = "escalation-template"
    IRO_NOTIFICATION = "iro-notification"
    DIRECTOR_NOTIFICATION = "director-notification"
    MASH_INVOLVEMENT = "mash-involvement"
    BUSINESS_UNIT_RECORD = "business-unit-record"
    STAGE_4_REFERRAL = "stage-4-referral"
    CHAIR_REFERRAL = "chair-referral"
    REPRESENTATIVE_NOTIFICATION = "representative-notification"
    LESSONS_LEARNED_REFERRAL = "lessons-learned-referral"
    OUTCOME_NOTICE = "outcome-notice"
    CONFERENCE_REQUEST = "conference-request"
    IMMINENT_RISK_REFERRAL = "imminent-risk-referral"
    OUTCOME_LETTER = "outcome-letter"


# Every person or group a protocol names as a recipient, by the key that
# ``[partnership.contacts]`` in the settings gives an address to.
CONTACT_KEYS = (
    "business_unit",
    "iro",
    "mash_service_manager",
    "director_quality_review",
    "senior_representative",
    "chair",
    "executive_representatives",
    "review_group",
    "service_director",
    "slo",
    "independent_chair",
    "childrens_social_care",
    "all_parties",
)
ContactKey = Literal[
    "business_unit", "iro", "mash_service_manager", "director_quality_review", "senior_representative",
    "chair", "executive_representatives", "review_group", "service_director", "slo", "independent_chair",
    "childrens_social_care", "all_parties",
]


class Notification(_Strict):
    """Someone the protocol says must be told when a stage is entered (or left, for ``on-outcome``).

    The notice goes to the address ``[partnership.contacts]`` gives ``contact``;
    otherwise to the configured business unit, for the attention of ``recipient``.
    ``published_address`` is the partnership's own address as the seed prints it:
    it is shown, never mailed unless the settings name it.
    """

    recipient: str = Field(min_length=1, description="Who, in the seed's words.")
    contact: ContactKey = Field(description="The key of [partnership.contacts] that addresses this recipient.")
    published_address: str | None = Field(
        default=None, description="The address the seed prints; shown, never used unless configured."
    )
    notice: NoticeKind
    when: Literal["on-entry", "before-entry", "on-resolution"] = "on-entry"
    condition: Condition | None = None
    unless: Condition | None = Field(default=None, description="Not sent when this condition holds.")
    parties: bool = Field(default=False, description="Also sent to every agency party on the case.")
    source: str = Field(min_length=3, description="Seed section and quotation.")


class Deadline(_Strict):
    """A deadline a seed sets inside or after a stage, apart from the stage's own timescale.

    ``counts_from`` names its day 0: ``stage-start`` (the stage's start, e.g. LSCP/LSAB
    step 4 urgent: the meeting's date set within 24 hours), ``stage-due`` (the stage's own
    due time, e.g. Gloucestershire: escalate to stage 4 no later than one working day after
    stage 3's five) or ``resolution`` (the case resolved at this stage, e.g. an outcome
    letter "within a further 2 working days", Sandwell's outcome "within one month").
    ``met_by_stage_end`` says the stage ending (escalated or resolved) by the deadline meets it;
    otherwise the case file cannot see it done, and once past it is ``not-recorded`` — unless it
    counts from the resolution and the business unit records it done (``DeadlineMet``): then
    ``met``, or ``missed`` when done after its time. A resolved case is reminded of and alerted
    to those by the running stage's rule (``outbox.reminders``) until they are recorded.
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    what: str = Field(min_length=3, description="What must be done by the deadline, in the product's words.")
    counts_from: Literal["stage-start", "stage-due", "resolution"]
    timescale: Timescale
    condition: Condition | None = Field(default=None, description="Applies only while this case fact is true.")
    met_by_stage_end: bool = False
    source: str = Field(min_length=3, description="Seed section and quotation; the reading where the seed is ambiguous.")

    @model_validator(mode="after")
    def _has_a_time(self) -> "Deadline":
        if self.timescale.no_fixed_timescale is not None:
            raise ValueError(f"deadline {self.name} needs a timescale with a time (not no_fixed_timescale)")
        return self


FormKind = Literal["resolution-notice", "escalation-concern", "summary-log", "stage-summary"]

# Rules a stage may state, each of which must cite its source.
_RULES_NEEDING_SOURCES = ("involved", "timescale", "cumulative", "summary_subject", "if_unresolved", "forms")


class Stage(_Strict):
    """One rung of the ladder."""

    number: int = Field(ge=0, le=9, description="The seed's own numbering; 0 is the informal step.")
    variant: str | None = Field(
        default=None,
        description="Where a seed splits a stage (LSCP/LSAB step 4 urgent / non-urgent).",
    )
    name: str = Field(min_length=1)
    involved: list[str] = Field(min_length=1)
    timescale: Timescale
    cumulative_working_days: int | None = Field(default=None, ge=0, le=365)
    summary_subject: str | None = None
    if_unresolved: str | None = Field(default=None, description="What happens next if unresolved.")
    forms: list[FormKind] = Field(default_factory=list)
    applies_when: Condition | None = Field(
        default=None, description="Of a split stage, the variant taken when this case fact is true."
    )
    applies_unless: Condition | None = Field(
        default=None, description="Of a split stage, the variant taken when this case fact is false."
    )
    notify: list[Notification] = Field(default_factory=list)
    deadlines: list[Deadline] = Field(default_factory=list)
    sources: dict[str, str] = Field(description="Seed section for each rule the stage states.")

    @model_validator(mode="after")
    def _every_rule_cites_its_source(self) -> "Stage":
        stated = {
            "involved": True,
            "timescale": True,
            "cumulative": self.cumulative_working_days is not None,
            "summary_subject": self.summary_subject is not None,
            "if_unresolved": self.if_unresolved is not None,
            "forms": bool(self.forms),
        }
        missing = [rule for rule in _RULES_NEEDING_SOURCES if stated[rule] and rule not in self.sources]
        if missing:
            raise ValueError(f"no seed source given for {', '.join(missing)} (add them under sources)")
        unknown = sorted(set(self.sources) - set(_RULES_NEEDING_SOURCES))
        if unknown:
            raise ValueError(
                f"sources names rules the stage does not have: {', '.join(unknown)}; "
                f"known rules are {', '.join(_RULES_NEEDING_SOURCES)}"
            )
        return self

    @property
    def label(self) -> str:
        return f"{self.number} ({self.variant})" if self.variant else str(self.number)


class Protocol(_Strict):
    """A partnership's escalation and resolution protocol."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1, description="The partnership.")
    title: str = Field(min_length=1, description="The document's title.")
    version: str = Field(min_length=1)
    source_document: str = Field(min_length=1)
    nation: Nation
    reference_prefix: str = Field(pattern=r"^[A-Z]{2,5}$", description="Case references, e.g. OLD-2026-0007.")
    case_start: str = Field(min_length=3, description="What the cumulative targets count from, with its source.")
    cumulative_from_stage: int = Field(
        description="The stage whose start the cumulative targets count from, unless a case start is given."
    )
    stages: list[Stage] = Field(min_length=1)

    @field_validator("stages")
    @classmethod
    def _stages_unique_and_ordered(cls, stages: list[Stage]) -> list[Stage]:
        seen: set[tuple[int, str | None]] = set()
        for stage in stages:
            key = (stage.number, stage.variant)
            if key in seen:
                raise ValueError(f"stage {stage.label} is defined twice")
            seen.add(key)
        numbers = [s.number for s in stages]
        if numbers != sorted(numbers):
            raise ValueError("stages must be listed in order")
        return stages

    @model_validator(mode="after")
    def _cumulative_from_a_real_stage(self) -> "Protocol":
        if self.cumulative_from_stage not in self.stage_numbers:
            raise ValueError(
                f"cumulative_from_stage {self.cumulative_from_stage} is not one of the stages "
                f"({', '.join(map(str, self.stage_numbers))})"
            )
        return self

    @property
    def stage_numbers(self) -> list[int]:
        return sorted({s.number for s in self.stages})

    def stage(self, number: int, variant: str | None = None) -> Stage:
        """The stage with that number (its first variant unless one is named)."""
        from resdesk.errors import UnknownStage

        candidates = [s for s in self.stages if s.number == number]
        if variant is not None:
            candidates = [s for s in candidates if s.variant == variant]
        if not candidates:
            label = f"{number} ({variant})" if variant else number
            raise UnknownStage(self.id, label, self.stage_numbers)
        return candidates[0]

    def next_stage(self, number: int, conditions: Mapping[str, bool] | None = None) -> Stage | None:
        """The stage after ``number``; of a split stage, the variant the case's conditions choose."""
        later = [s for s in self.stages if s.number > number]
        return self.variant_for(later[0].number, conditions) if later else None

    def variant_for(
        self, number: int, conditions: Mapping[str, bool] | None, variant: str | None = None
    ) -> Stage:
        """Stage ``number`` as the case facts choose it (LSCP/LSAB step 4 by ``urgent``);
        while the deciding fact is unknown, ``variant`` (or the first variant)."""
        conditions = conditions or {}
        for stage in (s for s in self.stages if s.number == number):
            if stage.applies_when is not None and conditions.get(stage.applies_when.value) is True:
                return stage
            if stage.applies_unless is not None and conditions.get(stage.applies_unless.value) is False:
                return stage
        return self.stage(number, variant)
