"""The case file: cases, parties, events, documents, the message ledger's table,
the hash-chained audit log and the outbox table, in SQLite or PostgreSQL.

Public surface: ``open_store`` and its unit of work, the audit chain check, the
pure stage-state rules, the correlation lookups and the listing views.
"""

from resdesk.cases.archive import Archive, sha256_hex
from resdesk.cases.audit import verify_chain
from resdesk.cases.models import (
    Alert,
    AuditEntry,
    Case,
    Document,
    Event,
    Lease,
    Mailbox,
    Message,
    Outbound,
    Party,
)
from resdesk.cases.lookup import StoreKnownCases, cases_about_child, normalise_identifier
from resdesk.cases.store import Store, Tx, UnknownCase, open_store
from resdesk.cases.views import case_summaries, case_timeline, clock_for, iter_case_summaries
from resdesk.cases.timeline import (
    OUTCOMES,
    CaseState,
    NewEvent,
    Transition,
    after_stage_notification,
    after_stage_summary,
    clock_events,
    normalise_outcome,
    outcome_from_text,
)

__all__ = [
    "OUTCOMES",
    "Alert",
    "Archive",
    "AuditEntry",
    "Case",
    "CaseState",
    "Document",
    "Event",
    "Lease",
    "Mailbox",
    "Message",
    "NewEvent",
    "Outbound",
    "Party",
    "Store",
    "Transition",
    "Tx",
    "UnknownCase",
    "StoreKnownCases",
    "after_stage_notification",
    "case_summaries",
    "iter_case_summaries",
    "cases_about_child",
    "case_timeline",
    "clock_for",
    "after_stage_summary",
    "clock_events",
    "normalise_identifier",
    "normalise_outcome",
    "open_store",
    "outcome_from_text",
    "sha256_hex",
    "verify_chain",
]
