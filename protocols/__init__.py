"""Protocols as data, the working-day calendar, and the stage clock.

Public surface: the definition models, the registry, the calendar and the clock.
"""

from resdesk.protocols.areas import AREAS, NOT_RECORDED, normalise_area
from resdesk.protocols.calendar import WorkingCalendar
from resdesk.protocols.clock import (
    CaseClock,
    CaseEvent,
    CaseResolved,
    DeadlineMet,
    DeadlineTiming,
    StageEntered,
    StageStatus,
    StageTiming,
    evaluate,
)
from resdesk.protocols.dues import cumulative_due, due_after
from resdesk.protocols.registry import Registry, default_registry, load_file
from resdesk.protocols.schema import NO_FIXED_TIMESCALE, Deadline, Nation, NoticeKind, Notification, Protocol, Stage, Timescale
from resdesk.protocols.timeparse import LOCAL, parse_when, to_local

__all__ = [
    "AREAS",
    "NOT_RECORDED",
    "normalise_area",
    "LOCAL",
    "NO_FIXED_TIMESCALE",
    "CaseClock",
    "CaseEvent",
    "CaseResolved",
    "Deadline",
    "DeadlineMet",
    "DeadlineTiming",
    "Nation",
    "NoticeKind",
    "Notification",
    "Protocol",
    "Registry",
    "Stage",
    "StageEntered",
    "StageStatus",
    "StageTiming",
    "Timescale",
    "WorkingCalendar",
    "cumulative_due",
    "default_registry",
    "due_after",
    "evaluate",
    "load_file",
    "parse_when",
    "to_local",
]
