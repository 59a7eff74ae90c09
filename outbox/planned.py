"""What planning returns, and what every part of planning shares (pure).

``Planned`` is one message owed, under an idempotency key that names why it
exists; ``Recipients`` turns a protocol's named recipient into an address: the
contact the settings give (``[partnership.contacts]``), otherwise the business
unit for the attention of that person. An address printed in a protocol file is
never mailed unless the settings name it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal, Mapping

from pydantic import BaseModel

from resdesk.cases.timeline import MESSAGE_RECORDED, clock_events
from resdesk.protocols import CaseClock, Protocol, StageTiming, WorkingCalendar, evaluate, to_local
from resdesk.render.snapshot import CaseSnapshot, addr_spec, address_of

WORKING_HOURS = (time(9, 0), time(17, 0))
RESOLVED = "resolved"

Document = Literal["acknowledgement", "notice", "resolution-notice", "escalation-concern", "reminder"]


@dataclass(frozen=True)
class Planned:
    """One message owed: its key, who gets it, and the views its documents are rendered from.

    ``view`` is the letter (its text is the mail body); ``form`` is the pre-filled
    template attached beside it (Resolution Notice, escalation template), if any.
    ``in_reply_to``/``references`` thread it onto the case's conversation.
    """

    key: str
    kind: Literal["acknowledgement", "notice", "reminder", "overdue"]
    document: Document
    case_ref: str
    recipient: str
    view: BaseModel
    form: BaseModel | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Skipped:
    key: str
    reason: str
    unsendable: bool = False  # owed, but no usable address: a person must be told (an alert)


@dataclass(frozen=True)
class Superseded:
    """A notice owed for a stage the case has since moved past: recorded in the outbox as
    superseded, never sent (``key`` is the notice's own, so it is never planned again)."""

    key: str
    case_ref: str
    recipient: str
    title: str
    reason: str


@dataclass(frozen=True)
class CasePlan:
    planned: tuple[Planned, ...]
    skipped: tuple[Skipped, ...] = ()
    superseded: tuple[Superseded, ...] = ()


@dataclass(frozen=True)
class Recipients:
    """Where mail goes: the business unit, the named contacts (settings), and the case's parties.

    ``contacts`` maps a protocol's contact key (``iro``, ``chair``, ...) to an address.
    """

    business_unit: str
    contacts: Mapping[str, str] = field(default_factory=dict)
    own_addresses: frozenset[str] = frozenset()
    review_every_working_days: int = 5

    def for_contact(self, key: str, who: str) -> tuple[str | None, str]:
        """(address, the name to address) for a protocol's named recipient."""
        if key != "business_unit" and self.contacts.get(key):
            return address_of(self.contacts[key], who), who
        fao = "Business Unit" if key == "business_unit" else f"Business Unit, for the attention of: {who}"
        return address_of(self.business_unit, "Business Unit"), fao

    def parties(self, snapshot: CaseSnapshot) -> list[tuple[str, str]]:
        """(address, name) of every agency party on the case, our own addresses and the business unit left out."""
        skip = set(self.own_addresses) | {addr_spec(self.business_unit)}
        found: dict[str, tuple[str, str]] = {}
        for party in snapshot.parties:
            spec = addr_spec(party.email)
            if not spec or spec in skip or spec in found:
                continue
            address = address_of(party.email, party.name)
            if address:
                found[spec] = (address, party.name or party.email or "")
        return list(found.values())


# -- working hours ----------------------------------------------------------------------------


def in_working_hours(now: datetime, calendar: WorkingCalendar, hours: tuple[time, time] = WORKING_HOURS) -> bool:
    """True from 09:00 to 17:00 local time on a working day of the calendar's nation."""
    moment = to_local(now)
    start, end = hours
    return calendar.is_working_day(moment.date()) and start <= moment.timetz().replace(tzinfo=None) < end


def last_working_day_by(day: date, calendar: WorkingCalendar) -> date:
    """``day`` if it is a working day, else the last working day before it."""
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


# -- shared helpers ---------------------------------------------------------------------------


def slug(text: str, limit: int = 48) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit] or "recipient"


def stage_label(stage: int, variant: str | None) -> str:
    return f"{stage}-{slug(variant, 16)}" if variant else str(stage)


def due_key(due: datetime) -> str:
    return to_local(due).isoformat(timespec="seconds")


def clock_at(protocol: Protocol, snapshot: CaseSnapshot, until: datetime, calendar: WorkingCalendar) -> CaseClock:
    """The clock from the events recorded up to ``until`` and the case facts as they are now."""
    events = [e for e in snapshot.events if e.at <= until]
    inputs = snapshot.clock_inputs
    return evaluate(
        protocol, clock_events(events), until, calendar, inputs.case_start,
        stage_starts=inputs.stage_starts, case_start_estimated=inputs.case_start_estimated,
        conditions=inputs.conditions,
    )


def protocol_name(protocol: Protocol) -> str:
    return f"{protocol.name}: {protocol.title} ({protocol.version})"


def current_timing(clock: CaseClock) -> StageTiming | None:
    return clock.recorded[-1] if clock.recorded else None


def conversation(snapshot: CaseSnapshot) -> tuple[str | None, tuple[str, ...]]:
    """(In-Reply-To, References) that thread a notice onto the case's mail: the latest message
    received from a person, after every earlier one. Automatic mail filed on the case (a bounce,
    an out-of-office) is never what a notice answers."""
    ids = [
        str(e.detail.get("message_id") or e.message_id)
        for e in snapshot.events
        if e.kind == MESSAGE_RECORDED and (e.detail.get("message_id") or e.message_id)
        and e.detail.get("classification") != "automatic"
    ]
    ids = list(dict.fromkeys(ids))
    return (ids[-1], tuple(ids)) if ids else (None, ())
