"""What must be sent, from a snapshot of a case and ``now`` (pure).

``plan_case`` reads a case's events and facts as the case file holds them and
returns every message the product owes for it, each under an idempotency key
that names why it exists, so planning again (every tick, after every drain) asks
for the same messages and the outbox keeps one of each:

- acknowledgements of recorded messages (``outbox.acknowledgements``);
- the notices a protocol requires on entry to a stage or on resolution
  (``outbox.notices``), to the named contacts the settings give, otherwise to
  the business unit for the attention of that person; those for a stage the
  case has since moved past come back as ``Superseded``, never to be sent;
- reminders, review reminders and overdue alerts for the running stage, to the
  business unit and the case's parties (``outbox.reminders``).

Acknowledgements and notices go at once; reminders and alerts follow the rules
in ``outbox.reminders``. Every notice and reminder threads onto the case's mail.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Mapping

from resdesk.cases.timeline import CASE_RESOLVED, MESSAGE_RECORDED, STAGE_ENTERED
from resdesk.protocols import Protocol, WorkingCalendar
from resdesk.render.snapshot import CaseSnapshot, EventSnapshot, PartySnapshot, addr_spec, snapshot_of

from .acknowledgements import acknowledgement
from .notices import notice_title, notices
from .planned import CLOCK_SKEW, WORKING_HOURS, CasePlan, Planned, Recipients, Skipped, Superseded, in_working_hours
from .reminders import reminders

__all__ = [
    "WORKING_HOURS",
    "EventSnapshot",
    "PartySnapshot",
    "CaseSnapshot",
    "Planned",
    "Skipped",
    "Superseded",
    "CasePlan",
    "Recipients",
    "snapshot_of",
    "in_working_hours",
    "plan_case",
    "notice_title",
]


def plan_case(
    snapshot: CaseSnapshot,
    protocol: Protocol,
    calendar: WorkingCalendar,
    now: datetime,
    *,
    business_unit: str,
    own_addresses: Iterable[str] = (),
    contacts: Mapping[str, str] | None = None,
    review_every_working_days: int = 5,
) -> CasePlan:
    """Every message the case is owed at ``now``: acknowledgements, notices, reminders and alerts.

    ``business_unit`` is the configured address (it always replaces an address
    printed in a protocol file); ``contacts`` maps the protocols' contact keys
    (``iro``, ``chair``, ...) to addresses (``[partnership.contacts]``).
    Acknowledgements and notices are planned for every case (a resolved case's
    last summary is still acknowledged); reminders and alerts only for a case not resolved.
    """
    own = frozenset(a for a in (addr_spec(x) for x in own_addresses) if a)
    recipients = Recipients(business_unit, dict(contacts or {}), own, review_every_working_days)
    items: list[Planned | Skipped | Superseded] = []
    for event in snapshot.events:
        if event.at > now + CLOCK_SKEW:
            continue
        if event.kind == MESSAGE_RECORDED:
            items.append(acknowledgement(snapshot, event, protocol, calendar, now, own))
        elif event.kind in (STAGE_ENTERED, CASE_RESOLVED) and event.stage is not None:
            items.extend(notices(snapshot, event, protocol, calendar, now, recipients))
    items.extend(reminders(snapshot, protocol, calendar, now, recipients))
    planned = [item for item in items if isinstance(item, Planned)]
    skipped = [item for item in items if isinstance(item, Skipped)]
    # A stage entered again owes its notice again under the same key as the entry it moved past:
    # what is owed now wins, or the superseded record would keep the notice from ever being queued.
    owed = {item.key for item in planned}
    superseded = [item for item in items if isinstance(item, Superseded) and item.key not in owed]
    return CasePlan(tuple(planned), tuple(skipped), tuple(superseded))
