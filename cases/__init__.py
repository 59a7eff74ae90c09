"""The case file: cases, parties, events, documents, the message ledger's table,
the hash-chained audit log and the outbox table, in SQLite or PostgreSQL.

Public surface: ``open_store`` and its unit of work, the audit chain check, the
pure stage-state rules, the correlation lookups and the listing views; finding cases
(``find_cases``, ``chase_list``), a person's corrections (``resdesk.cases.corrections``),
recording a deadline kept outside the case file done and withdrawing such a record
(``record_deadline_met``, ``withdraw_deadline_met``), checking a
case (``verify_case``), the workspace's users (``resdesk.cases.users``) and the named leases that
keep one watcher to a mailbox and one sender to the outbox (``resdesk.cases.leases``).
"""

from resdesk.cases.archive import Archive, sha256_hex
from resdesk.cases.audit import verify_chain
from resdesk.cases.models import (
    Alert,
    AuditEntry,
    Case,
    CaseFact,
    Document,
    Event,
    Lease,
    Mailbox,
    Message,
    Outbound,
    Party,
)
from resdesk.cases.facts import FactValue, clear_fact, fact_texts, facts_of, needed_facts, set_fact
from resdesk.cases.lookup import StoreKnownCases, cases_about_child, normalise_identifier
from resdesk.cases.store import Store, Tx, UnknownCase, open_store
from resdesk.cases.views import case_summaries, case_timeline, clock_for, iter_case_summaries
from resdesk.cases.verify import Verification, verify_all, verify_case
from resdesk.cases.search import CaseQuery, chase_list, find_cases, fold
from resdesk.cases.corrections import (
    add_note,
    add_party,
    clear_review,
    close_case,
    merge_cases,
    move_message,
    reopen_case,
    set_stage,
)
from resdesk.cases.deadlines import record_deadline_met, recordable_deadlines, withdraw_deadline_met
from resdesk.cases.users import UnknownUser, add_user, authenticate, disable_user, list_users, reset_password
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
    "CaseQuery",
    "UnknownUser",
    "Verification",
    "add_note",
    "add_party",
    "add_user",
    "authenticate",
    "chase_list",
    "clear_review",
    "close_case",
    "disable_user",
    "find_cases",
    "fold",
    "list_users",
    "merge_cases",
    "move_message",
    "record_deadline_met",
    "recordable_deadlines",
    "withdraw_deadline_met",
    "reopen_case",
    "reset_password",
    "set_stage",
    "verify_all",
    "verify_case",
    "OUTCOMES",
    "Alert",
    "Archive",
    "AuditEntry",
    "Case",
    "CaseFact",
    "CaseState",
    "Document",
    "Event",
    "FactValue",
    "clear_fact",
    "fact_texts",
    "facts_of",
    "needed_facts",
    "set_fact",
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
